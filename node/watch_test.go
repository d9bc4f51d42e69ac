package node

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWatchInvalidations(t *testing.T) {
	n, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	regs := 0
	n.OnRegistrationChange(func() { regs++ })
	if n.Watching() {
		t.Fatal("Watching with no Watch")
	}
	w := n.WatchInvalidations([]string{"exact"}, []string{"p:"}, 2)
	if !n.Watching() || regs != 1 {
		t.Fatalf("Watching %v, registration changes %d", n.Watching(), regs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n.RegistrationSent(n.RegistrationWanted())
	if err := w.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	n.PublishInvalidation([][]byte{[]byte("exactly"), []byte("exact"), []byte("p:1"), []byte("q")}, false)
	if ev := <-w.Events(); len(ev.Keys) != 2 || ev.Keys[0] != "exact" || ev.Keys[1] != "p:1" {
		t.Fatalf("event %+v", ev)
	}
	n.PublishInvalidation([][]byte{[]byte("q")}, false) // nothing watched
	n.PublishInvalidation(nil, true)
	if ev := <-w.Events(); !ev.All {
		t.Fatalf("event %+v, want All", ev)
	}
	// A reader more than its buffer behind loses the Watch.
	for range 3 {
		n.PublishInvalidation([][]byte{[]byte("p:2")}, false)
	}
	select {
	case <-w.Done():
	case <-ctx.Done():
		t.Fatal("no overflow")
	}
	if !errors.Is(w.Err(), ErrWatchOverflow) || n.Watching() || regs != 2 {
		t.Fatalf("after overflow: %v, watching %v, registration changes %d", w.Err(), n.Watching(), regs)
	}
	w.Close() // idempotent

	// Ready waits for the registration to be sent.
	w2 := n.WatchInvalidations(nil, []string{""}, 1)
	defer w2.Close()
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := w2.Ready(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ready before the registration was sent: %v", err)
	}
	go n.RegistrationSent(n.RegistrationWanted())
	if err := w2.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}
