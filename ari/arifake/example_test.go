package arifake_test

import (
	"context"
	"fmt"
	"time"

	"github.com/csm-vn/hotline/ari/arifake"
)

// A standalone fake, as `hotline simulate` runs it: real-time defaults, a
// loopback port, scripted phones, and generated incoming calls once the
// application is connected.
func Example() {
	srv := arifake.NewServer(arifake.Options{
		User: "hotline", Password: "secret",
		Phones: map[string]arifake.Phone{
			"0945550101": arifake.AnswersAndPresses(3*time.Second, "1", 2*time.Second), // a KTV who accepts
			"0945550102": arifake.Busy(),
			"0945550103": arifake.Voicemail(8 * time.Second),
		},
		DefaultPhone: arifake.NeverAnswers(),
		Trunks:       map[string]arifake.TrunkState{"gw-mobifone": arifake.TrunkCongested},
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
	call, err := srv.PlaceCall(arifake.CallSpec{Number: "02973812345"})
	if err != nil {
		return // arifake.ErrAppInactive: the dialplan fallback took it
	}
	if call.WaitAnswered(ctx) == nil {
		_ = call.Press(ctx, "2")
	}
	<-call.Done()
}
