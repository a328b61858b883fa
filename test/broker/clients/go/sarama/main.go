// The interop matrix's sarama (Debian golang-github-shopify-sarama-dev 1.22) client: one program,
// one subcommand per cell. Records go in and come out as JSON lines
// {"p":partition,"o":offset,"k":key,"v":value,"h":[[name,value],...]}.
//
// usage:
//
//	sarama produce BOOTSTRAP TOPIC CODEC < records.jsonl   (prints the count acknowledged)
//	sarama consume BOOTSTRAP TOPIC COUNT                   (prints COUNT records from the earliest offset)
//	sarama idempotent BOOTSTRAP TOPIC COUNT PREFIX          (see idempotent below)
//	sarama group BOOTSTRAP TOPIC GROUP                     (prints "joined" once assigned; leaves on stdin "stop")
//	sarama admin BOOTSTRAP TOPIC GROUP                     (ClusterAdmin calls; prints one JSON object;
//	                                                         adds a partition to TOPIC and deletes its offset 0)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/Shopify/sarama"
)

type record struct {
	P int32       `json:"p"`
	O int64       `json:"o"`
	K string      `json:"k"`
	V string      `json:"v"`
	H [][2]string `json:"h"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func config() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "sarama-interop"
	// 2.1 is the newest version sarama 1.22 knows: Produce v7 (zstd), record headers, Fetch v10.
	c.Version = sarama.V2_1_0_0
	c.Net.DialTimeout = 20 * time.Second
	c.Net.ReadTimeout = 30 * time.Second
	return c
}

var codecs = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

func produce(bootstrap, topic, codec string) {
	c := config()
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Compression = codecs[codec]
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Flush.Messages = 1000
	c.Producer.Flush.Frequency = 50 * time.Millisecond
	p, err := sarama.NewAsyncProducer([]string{bootstrap}, c)
	if err != nil {
		fail(err)
	}
	sent := 0
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var r record
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			fail(err)
		}
		headers := make([]sarama.RecordHeader, 0, len(r.H))
		for _, h := range r.H {
			headers = append(headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
		}
		p.Input() <- &sarama.ProducerMessage{Topic: topic, Partition: r.P, Key: sarama.StringEncoder(r.K),
			Value: sarama.StringEncoder(r.V), Headers: headers}
		sent++
	}
	acked := 0
	for i := 0; i < sent; i++ {
		select {
		case <-p.Successes():
			acked++
		case err := <-p.Errors():
			fail(err.Err)
		}
	}
	if err := p.Close(); err != nil {
		fail(err)
	}
	fmt.Println(acked)
}

// idempotent produces COUNT records "PREFIX-i" a few hundred a second with idempotence on, so
// that a broker restart falls in the middle; prints "ack VALUE" per acknowledged record,
// "error TEXT" per failed one and "done N" (N failures) at the end.
func idempotent(bootstrap, topic string, count int, prefix string) {
	c := config()
	c.Producer.Idempotent = true
	c.Net.MaxOpenRequests = 1 // sarama 1.22's idempotent producer requires it
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Retry.Max = 1000
	c.Producer.Retry.Backoff = 100 * time.Millisecond
	c.Metadata.Retry.Max = 1000
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	p, err := sarama.NewAsyncProducer([]string{bootstrap}, c)
	if err != nil {
		fail(err)
	}
	failures := 0
	done := make(chan struct{})
	go func() {
		for i := 0; i < count; i++ {
			select {
			case m := <-p.Successes():
				v, _ := m.Value.Encode()
				fmt.Printf("ack %s\n", v)
			case e := <-p.Errors():
				failures++
				v, _ := e.Msg.Value.Encode()
				fmt.Printf("error %s: %v\n", v, e.Err)
			}
		}
		close(done)
	}()
	for i := 0; i < count; i++ {
		p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(fmt.Sprintf("k%d", i%7)),
			Value: sarama.StringEncoder(fmt.Sprintf("%s-%d", prefix, i))}
		time.Sleep(3 * time.Millisecond)
	}
	<-done
	p.Close()
	fmt.Printf("done %d\n", failures)
}

func consume(bootstrap, topic string, count int) {
	consumer, err := sarama.NewConsumer([]string{bootstrap}, config())
	if err != nil {
		fail(err)
	}
	defer consumer.Close()
	partitions, err := consumer.Partitions(topic)
	if err != nil {
		fail(err)
	}
	out := make(chan *sarama.ConsumerMessage)
	for _, p := range partitions {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			fail(err)
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				out <- m
			}
		}()
	}
	enc := json.NewEncoder(os.Stdout)
	deadline := time.After(60 * time.Second)
	for seen := 0; seen < count; seen++ {
		select {
		case m := <-out:
			r := record{P: m.Partition, O: m.Offset, K: string(m.Key), V: string(m.Value), H: [][2]string{}}
			for _, h := range m.Headers {
				r.H = append(r.H, [2]string{string(h.Key), string(h.Value)})
			}
			enc.Encode(r)
		case <-deadline:
			fail(fmt.Errorf("timed out after %d of %d records", seen, count))
		}
	}
}

type member struct{ joined chan []int32 }

func (m member) Setup(s sarama.ConsumerGroupSession) error {
	m.joined <- s.Claims()[""]
	return nil
}
func (member) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (member) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for range c.Messages() {
	}
	return nil
}

func group(bootstrap, topic, groupID string) {
	c := config()
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Group.Session.Timeout = 30 * time.Second // long: an Empty group then means a real LeaveGroup
	c.Consumer.Group.Heartbeat.Interval = 1 * time.Second
	g, err := sarama.NewConsumerGroup([]string{bootstrap}, groupID, c)
	if err != nil {
		fail(err)
	}
	go func() {
		for err := range g.Errors() {
			fmt.Fprintln(os.Stderr, "group error:", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	joined := make(chan []int32, 1)
	done := make(chan error, 1)
	go func() { done <- g.Consume(ctx, []string{topic}, member{joined}) }()
	select {
	case <-joined:
		fmt.Println("joined")
	case err := <-done:
		fail(fmt.Errorf("consume ended before joining: %v", err))
	case <-time.After(60 * time.Second):
		fail(fmt.Errorf("not assigned within 60 s"))
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "stop" {
	}
	cancel()
	<-done
	if err := g.Close(); err != nil { // sends LeaveGroup
		fail(err)
	}
	fmt.Println("left")
}

func admin(bootstrap, topic, group string) {
	a, err := sarama.NewClusterAdmin([]string{bootstrap}, config())
	if err != nil {
		fail(err)
	}
	defer a.Close()
	out := map[string]interface{}{}
	topics, err := a.ListTopics()
	if err != nil {
		fail(fmt.Errorf("ListTopics: %v", err))
	}
	names := []string{}
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	out["topics"] = names
	entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		fail(fmt.Errorf("DescribeConfig: %v", err))
	}
	configs := map[string]string{}
	for _, e := range entries {
		configs[e.Name] = e.Value
	}
	out["configs"] = configs
	groups, err := a.ListConsumerGroups()
	if err != nil {
		fail(fmt.Errorf("ListConsumerGroups: %v", err))
	}
	out["groups"] = groups
	described, err := a.DescribeConsumerGroups([]string{group})
	if err != nil {
		fail(fmt.Errorf("DescribeConsumerGroups: %v", err))
	}
	out["describe"] = map[string]interface{}{"state": described[0].State, "members": len(described[0].Members)}
	brokers, controller, err := a.DescribeCluster()
	if err != nil {
		fail(fmt.Errorf("DescribeCluster: %v", err))
	}
	out["cluster"] = map[string]interface{}{"brokers": len(brokers), "controller": controller}
	if err := a.CreatePartitions(topic, 2, nil, false); err != nil {
		fail(fmt.Errorf("CreatePartitions: %v", err))
	}
	if err := a.DeleteRecords(topic, map[int32]int64{0: 1}); err != nil {
		fail(fmt.Errorf("DeleteRecords: %v", err))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func main() {
	args := os.Args[1:]
	if len(args) < 3 {
		fail(fmt.Errorf("usage: sarama produce|consume|group|admin BOOTSTRAP TOPIC ..."))
	}
	switch args[0] {
	case "produce":
		produce(args[1], args[2], args[3])
	case "consume":
		n, _ := strconv.Atoi(args[3])
		consume(args[1], args[2], n)
	case "group":
		group(args[1], args[2], args[3])
	case "idempotent":
		n, _ := strconv.Atoi(args[3])
		idempotent(args[1], args[2], n, args[4])
	case "admin":
		admin(args[1], args[2], args[3])
	default:
		fail(fmt.Errorf("unknown command %q", args[0]))
	}
}
