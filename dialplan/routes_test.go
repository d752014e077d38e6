package dialplan

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRouteNumber(t *testing.T) {
	trunks := Trunks{"vinaphone": "PJSIP/{number}@gw-vinaphone", "viettel": "PJSIP/{e164}@gw-viettel",
		DefaultTrunk: "PJSIP/{number}@gw-default"}
	for _, tc := range []struct {
		name, number string
		carrier      Carrier
		trunks       Trunks
		primary      Route
		alternate    *Route
		ok           bool
	}{
		{"carrier's own trunk, default as alternate", "0945551001", CarrierVinaphone, trunks,
			Route{"vinaphone", "PJSIP/0945551001@gw-vinaphone"}, &Route{DefaultTrunk, "PJSIP/0945551001@gw-default"}, true},
		{"e164 template", "+84965551002", CarrierViettel, trunks,
			Route{"viettel", "PJSIP/+84965551002@gw-viettel"}, &Route{DefaultTrunk, "PJSIP/0965551002@gw-default"}, true},
		{"carrier without a trunk: default, then the first other", "0935551003", CarrierMobifone, trunks,
			Route{DefaultTrunk, "PJSIP/0935551003@gw-default"}, &Route{"viettel", "PJSIP/+84935551003@gw-viettel"}, true},
		{"landline", "02973555001", CarrierUnknown, trunks,
			Route{DefaultTrunk, "PJSIP/02973555001@gw-default"}, &Route{"viettel", "PJSIP/+842973555001@gw-viettel"}, true},
		{"one trunk: no alternate", "0945551001", CarrierVinaphone, Trunks{"vinaphone": "PJSIP/{number}@gw-vinaphone"},
			Route{"vinaphone", "PJSIP/0945551001@gw-vinaphone"}, nil, true},
		{"no trunk for it", "0935551003", CarrierMobifone, Trunks{"vinaphone": "PJSIP/{number}@gw-vinaphone"},
			Route{}, nil, false},
		{"toll-free is not dialled", "18001234", CarrierUnknown, trunks, Route{}, nil, false},
		{"withheld", "anonymous", CarrierUnknown, trunks, Route{}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, alt, ok := tc.trunks.RouteNumber(Normalize(tc.number), tc.carrier)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.primary, p)
			require.Equal(t, tc.alternate, alt)
		})
	}
}
