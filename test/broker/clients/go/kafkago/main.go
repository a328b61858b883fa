// The interop matrix's kafka-go (Debian golang-github-segmentio-kafka-go-dev 0.2) client.
// kafka-go 0.2 writes message format v1 with Produce v2 and reads with Fetch v2, and has no
// record headers. produce and consume print "error: ..." and exit 2 when the broker refuses.
//
// usage:
//
//	kafkago produce BOOTSTRAP TOPIC CODEC   (one batch of 3 records on partition 0; prints the count written)
//	kafkago consume BOOTSTRAP TOPIC         (reads partition 0 from offset 0; prints "k v" lines)
//	kafkago group BOOTSTRAP TOPIC GROUP     (prints "joined" once subscribed; leaves on stdin "stop")
package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

func fail(code int, err error) {
	fmt.Println("error:", err)
	os.Exit(code)
}

func dial(bootstrap, topic string) *kafka.Conn {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := kafka.DialLeader(ctx, "tcp", bootstrap, topic, 0)
	if err != nil {
		fail(1, err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return conn
}

func produce(bootstrap, topic, codec string) {
	conn := dial(bootstrap, topic)
	defer conn.Close()
	msgs := []kafka.Message{{Key: []byte("k0"), Value: []byte("v0")}, {Key: []byte("k1"), Value: []byte("v1")},
		{Key: []byte("k2"), Value: []byte("v2")}}
	var n int
	var err error
	switch codec {
	case "none":
		n, err = conn.WriteMessages(msgs...)
	case "gzip":
		n, err = conn.WriteCompressedMessages(gzip.NewCompressionCodec(), msgs...)
	case "snappy":
		n, err = conn.WriteCompressedMessages(snappy.NewCompressionCodec(), msgs...)
	case "lz4":
		n, err = conn.WriteCompressedMessages(lz4.NewCompressionCodec(), msgs...)
	default:
		fail(1, fmt.Errorf("kafka-go 0.2 has no codec %q", codec))
	}
	if err != nil {
		fail(2, err)
	}
	fmt.Println(n)
}

func consume(bootstrap, topic string) {
	conn := dial(bootstrap, topic)
	defer conn.Close()
	if _, err := conn.Seek(0, kafka.SeekAbsolute); err != nil {
		fail(2, err)
	}
	batch := conn.ReadBatch(1, 1<<20)
	for {
		m, err := batch.ReadMessage()
		if err != nil {
			if cerr := batch.Close(); cerr != nil {
				fail(2, cerr)
			}
			return
		}
		fmt.Printf("%s %s\n", m.Key, m.Value)
	}
}

// lineWatcher turns the reader's log lines into a "joined" line on stdout once it subscribed.
type lineWatcher struct{ joined chan struct{} }

func (w lineWatcher) Write(p []byte) (int, error) {
	os.Stderr.Write(p)
	if strings.Contains(string(p), "subscribed to partitions") {
		select {
		case w.joined <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

func group(bootstrap, topic, groupID string) {
	w := lineWatcher{make(chan struct{}, 1)}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{bootstrap}, Topic: topic, GroupID: groupID,
		// 6 s: Close sends no LeaveGroup (see interop-clients.ts), so the session timeout removes it.
		SessionTimeout: 6 * time.Second, HeartbeatInterval: time.Second,
		Logger: log.New(w, "kafka-go: ", 0),
	})
	select {
	case <-w.joined:
		fmt.Println("joined")
	case <-time.After(60 * time.Second):
		fail(1, fmt.Errorf("not subscribed within 60 s"))
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "stop" {
	}
	if err := r.Close(); err != nil { // sends LeaveGroup
		fail(1, err)
	}
	fmt.Println("left")
}

func main() {
	args := os.Args[1:]
	if len(args) < 3 {
		fail(1, fmt.Errorf("usage: kafkago produce|consume|group BOOTSTRAP TOPIC ..."))
	}
	switch args[0] {
	case "produce":
		produce(args[1], args[2], args[3])
	case "consume":
		consume(args[1], args[2])
	case "group":
		group(args[1], args[2], args[3])
	default:
		fail(1, fmt.Errorf("unknown command %q", args[0]))
	}
}
