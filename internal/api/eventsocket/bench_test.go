package eventsocket

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/model"
)

// BenchmarkEventsInWebsocket drives /events/in end to end (gorilla clients,
// real sockets, decode, validate, batch, record into the in-memory fake
// store, publish) with several connections that checkpoint with a ping
// every 700 events, as the Prefect client does. Clients and server share
// the machine, so events/s is a lower bound of the server's capacity; the
// store's own cost is not included.
func BenchmarkEventsInWebsocket(b *testing.B) {
	const conns = 4
	st := newFakeStore()
	bus := events.NewBus()
	in := startIngest(b, events.IngestConfig{Store: st, Bus: bus})
	s := NewSockets(SocketsConfig{Ingest: in, Bus: bus})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.ServeIn(w, r, testWS, allowAll) }))
	defer srv.Close()

	proto := taskRunEvent(model.NewID(), model.StateRunning, "Running", t0)
	tmpl, err := json.Marshal(proto)
	if err != nil {
		b.Fatal(err)
	}
	idAt := bytes.Index(tmpl, []byte(proto.ID.String()))

	clients := make([]*websocket.Conn, conns)
	pongs := make([]chan struct{}, conns)
	for i := range clients {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		pongs[i] = make(chan struct{}, 1)
		ch := pongs[i]
		c.SetPongHandler(func(string) error { ch <- struct{}{}; return nil })
		go func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					return
				}
			}
		}()
		clients[i] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range clients {
		n := b.N / conns
		if i == 0 {
			n += b.N % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			frame := bytes.Clone(tmpl)
			checkpoint := func() {
				if err := c.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
					b.Error(err)
					return
				}
				<-pongs[i]
			}
			for j := 0; j < n; j++ {
				copy(frame[idAt:], model.NewID().String())
				if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
					b.Error(err)
					return
				}
				if j%700 == 699 {
					checkpoint()
				}
			}
			checkpoint()
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if got := st.eventCount(testWS); got != b.N {
		b.Fatalf("%d events stored, want %d", got, b.N)
	}
}
