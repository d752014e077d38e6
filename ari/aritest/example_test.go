package aritest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/csm-vn/hotline/ari/aritest"
)

// A standalone fake, as `hotline simulate` runs it: real-time defaults, a
// loopback port, scripted phones, and generated incoming calls once the
// application is connected.
func Example() {
	srv := aritest.NewServer(aritest.Options{
		User: "hotline", Password: "secret",
		Phones: map[string]aritest.Phone{
			"0945550101": aritest.AnswersAndPresses(3*time.Second, "1", 2*time.Second), // a KTV who accepts
			"0945550102": aritest.Busy(),
			"0945550103": aritest.Voicemail(8 * time.Second),
		},
		DefaultPhone: aritest.NeverAnswers(),
		Trunks:       map[string]aritest.TrunkState{"gw-mobifone": aritest.TrunkCongested},
	})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Close()
	fmt.Println("HOTLINE_ARI_URL=" + srv.URL())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.WaitConnected(ctx, "hotline"); err != nil {
		return // the application never connected
	}
	call, err := srv.PlaceCall(aritest.CallSpec{Number: "02973812345"})
	if err != nil {
		return // aritest.ErrAppInactive: the dialplan fallback took it
	}
	if call.WaitAnswered(ctx) == nil {
		_ = call.Press(ctx, "2")
	}
	<-call.Done()
}
