package tail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatewatch/gatewatch/tail"
)

// The metrics reader: every handled line is acknowledged when the handler
// returns, and the checkpoint follows.
func ExampleTailer_Run() {
	dir, _ := os.MkdirTemp("", "tail-example")
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "access.log")
	_ = os.WriteFile(log, []byte("GET /v1/users 200\nPOST /v1/orders 201\n"), 0o644)

	t, err := tail.New(tail.Options{
		Paths:      []string{log + "*"},
		Checkpoint: filepath.Join(dir, "metrics.checkpoint.json"),
		OneShot:    true, // a sidecar leaves this false and cancels ctx to stop
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = t.Run(context.Background(), func(l tail.Line) error {
		fmt.Printf("%d-%d %s\n", l.Offset, l.End, l.Bytes)
		return nil
	})
	fmt.Println(err, t.Checkpoint().Files[0].Offset)
	// Output:
	// 0-18 GET /v1/users 200
	// 18-38 POST /v1/orders 201
	// <nil> 38
}

// The shipper: lines are acknowledged when Elasticsearch confirms them, in
// any order; the checkpoint only moves over the contiguous prefix.
func ExampleTailer_Ack() {
	dir, _ := os.MkdirTemp("", "tail-example")
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "access.log")
	_ = os.WriteFile(log, []byte("a\nb\nc\n"), 0o644)

	t, _ := tail.New(tail.Options{Paths: []string{log}, ManualAck: true, OneShot: true})
	var lines []tail.Line
	_ = t.Run(context.Background(), func(l tail.Line) error {
		lines = append(lines, l) // a real shipper queues a document with _id from (l.File.Fingerprint, l.Offset)
		return nil
	})
	ack := func(i int) {
		t.Ack(lines[i].File, lines[i].Offset, lines[i].End)
		fmt.Println("acked", i, "checkpoint at", t.Checkpoint().Files[0].Offset)
	}
	ack(2)
	ack(0)
	ack(1)
	// Output:
	// acked 2 checkpoint at 0
	// acked 0 checkpoint at 2
	// acked 1 checkpoint at 6
}
