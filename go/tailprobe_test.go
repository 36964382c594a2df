package tailprobe

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

const validTP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestTraceparentValidAndInvalidHeaders(t *testing.T) {
	tr, p, ok := ParseTraceparent(validTP)
	if !ok || tr != "4bf92f3577b34da6a3ce929d0e0e4736" || p != "00f067aa0ba902b7" {
		t.Fatalf("valid header: %q %q %v", tr, p, ok)
	}
	if _, _, ok := ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"); !ok {
		t.Error("a later version with more fields is read for its first four")
	}
	for _, bad := range []string{
		"",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent id
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // version 00 with extra
		"00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",   // dash misplaced
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",   // bad flags
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // short
	} {
		if tr, p, ok := ParseTraceparent(bad); ok || tr != "" || p != "" {
			t.Errorf("%q accepted as %q %q", bad, tr, p)
		}
	}
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

type requestsJSON struct {
	Format         string `json:"format"`
	Now            string `json:"now"`
	RecordingSince string `json:"recordingSince"`
	Capacity       int    `json:"capacity"`
	Recorded       int    `json:"recorded"`
	Dropped        int    `json:"dropped"`
	Requests       []map[string]interface{}
}

func TestEveryRequestIsRecordedWithItsTraceStatusAndBytes(t *testing.T) {
	rec := New(Options{Requests: 4})
	defer rec.Close()
	var label string
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		label, _ = pprof.Label(r.Context(), TraceLabel)
		fmt.Fprint(w, "hello")
	})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints) // informational, not the final status
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.Copy(w, strings.NewReader("short and stout")) // ReadFrom
	})
	srv := httptest.NewServer(rec.Handler(mux))
	defer srv.Close()

	before := time.Now().UnixNano()
	get(t, srv.URL+"/hello?x=1", map[string]string{"traceparent": validTP})
	if label != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("pprof label in the handler: %q", label)
	}
	get(t, srv.URL+"/teapot", map[string]string{"traceparent": "garbage"})
	get(t, srv.URL+"/"+strings.Repeat("p", 300), nil)
	if res, err := http.Head(srv.URL + "/hello"); err == nil {
		res.Body.Close()
	}
	get(t, srv.URL+"/debug/tailprobe/", nil) // diagnostics are not recorded
	after := time.Now().UnixNano()

	res, body := get(t, srv.URL+"/debug/tailprobe/requests", nil)
	if res.Header.Get(AgentHeader) != "go/"+Version || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", res.Header)
	}
	var b requestsJSON
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err, string(body))
	}
	if b.Format != Format || b.Capacity != 4 || b.Recorded != 4 || b.Dropped != 0 || len(b.Requests) != 4 {
		t.Fatalf("body %s", body)
	}
	r0, r1, r2, r3 := b.Requests[0], b.Requests[1], b.Requests[2], b.Requests[3]
	if r3["method"] != "HEAD" || r3["status"] != 200.0 || r3["bytes"] != 0.0 {
		t.Errorf("HEAD record %v", r3)
	}
	if r0["trace"] != "4bf92f3577b34da6a3ce929d0e0e4736" || r0["parent"] != "00f067aa0ba902b7" || r0["path"] != "/hello?x=1" ||
		r0["status"] != 200.0 || r0["bytes"] != 5.0 || r0["method"] != "GET" {
		t.Errorf("first record %v", r0)
	}
	if r1["trace"] != "" || r1["parent"] != "" || r1["status"] != 418.0 || r1["bytes"] != 15.0 {
		t.Errorf("second record %v", r1)
	}
	if r2["status"] != 404.0 || len(r2["path"].(string)) != MaxPath {
		t.Errorf("third record: status %v, path of %d", r2["status"], len(r2["path"].(string)))
	}
	for _, r := range b.Requests {
		s, err1 := strconv.ParseInt(r["start"].(string), 10, 64)
		e, err2 := strconv.ParseInt(r["end"].(string), 10, 64)
		if err1 != nil || err2 != nil || s < before || e < s || e > after {
			t.Errorf("times %v..%v outside %d..%d", r["start"], r["end"], before, after)
		}
	}

	// The window: records that overlap [since, until].
	s0 := b.Requests[1]["start"].(string)
	_, body = get(t, srv.URL+"/debug/tailprobe/requests?since="+s0, nil)
	_ = json.Unmarshal(body, &b)
	if len(b.Requests) != 3 {
		t.Errorf("since=%s: %d records", s0, len(b.Requests))
	}
	if res, _ := get(t, srv.URL+"/debug/tailprobe/requests?since=-1", nil); res.StatusCode != 400 {
		t.Errorf("since=-1: %d", res.StatusCode)
	}

	// The ring keeps the newest: one more request overwrites the oldest.
	get(t, srv.URL+"/hello", nil)
	_, body = get(t, srv.URL+"/debug/tailprobe/requests", nil)
	_ = json.Unmarshal(body, &b)
	if b.Recorded != 5 || b.Dropped != 1 || len(b.Requests) != 4 || b.Requests[0]["status"] != 418.0 {
		t.Errorf("after overwriting: %s", body)
	}
}

func TestARequestWhoseClientGaveUpIsRecordedAborted(t *testing.T) {
	rec := New(Options{Requests: 8})
	defer rec.Close()
	done := make(chan struct{})
	srv := httptest.NewServer(rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done() // until the client has gone
			defer close(done)
		}
		fmt.Fprint(w, "ok")
	})))
	defer srv.Close()
	get(t, srv.URL+"/fast", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("the slow request should have timed out")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never saw the client go")
	}
	var b requestsJSON
	for i := 0; i < 50; i++ { // the record lands once the wrapper's defer has run
		_, body := get(t, srv.URL+"/debug/tailprobe/requests", nil)
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		if len(b.Requests) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(b.Requests) != 2 {
		t.Fatalf("%d records", len(b.Requests))
	}
	fast, slow := b.Requests[0], b.Requests[1]
	if _, ok := fast["aborted"]; ok || fast["path"] != "/fast" {
		t.Errorf("a whole request is not aborted: %v", fast)
	}
	if slow["aborted"] != true || slow["path"] != "/slow" {
		t.Errorf("the abandoned request: %v", slow)
	}
}

func TestRecordsAreServedOldestFirstByStartNotByWhenTheyFinished(t *testing.T) {
	r := newRequestRing(4)
	r.add(&requestRecord{start: 20, end: 30, path: "/short"}) // began later, finished first
	r.add(&requestRecord{start: 10, end: 40, path: "/long"})
	recs, _, _ := r.query(0, 0)
	if len(recs) != 2 || recs[0].Path != "/long" || recs[1].Path != "/short" {
		t.Errorf("order %+v", recs)
	}
}

func TestTheWrappedWriterKeepsFlushHijackAndUnwrap(t *testing.T) {
	var rw recordingWriter
	inner := httptest.NewRecorder()
	w := wrapWriter(inner, &rw)
	if _, ok := w.(http.Hijacker); ok {
		t.Error("a writer that cannot hijack must not claim to")
	}
	w.(http.Flusher).Flush()
	if !inner.Flushed || rw.status != 200 {
		t.Error("Flush did not reach the server's writer")
	}
	if w.(interface{ Unwrap() http.ResponseWriter }).Unwrap() != inner {
		t.Error("Unwrap")
	}
	if err := w.(http.Pusher).Push("/x", nil); err != http.ErrNotSupported {
		t.Errorf("Push: %v", err)
	}

	rec := New(Options{})
	defer rec.Close()
	srv := httptest.NewServer(rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		_ = buf.Flush()
		c.Close()
	})))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	c.Close()
	if string(b) != "hi" {
		t.Errorf("hijacked body %q", b)
	}
	// The client has the answer before the handler returns (and the record is written): wait for it.
	recs, _, _ := rec.requests.query(0, 0)
	for deadline := time.Now().Add(5 * time.Second); len(recs) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		recs, _, _ = rec.requests.query(0, 0)
	}
	if len(recs) != 1 || recs[0].Bytes != -1 {
		t.Errorf("a hijacked request's bytes are unknown: %+v", recs)
	}
}

func TestAPanickingHandlerIsRecordedAndStillPanics(t *testing.T) {
	rec := New(Options{})
	defer rec.Close()
	h := rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	}()
	recs, _, _ := rec.requests.query(0, 0)
	if len(recs) != 1 || recs[0].Status != 500 || recs[0].Path != "/boom" {
		t.Errorf("%+v", recs)
	}
}

func TestOnlyLoopbackWithoutATokenAndTheTokenInConstantTime(t *testing.T) {
	rec := New(Options{})
	defer rec.Close()
	serve := func(r *http.Request) int {
		w := httptest.NewRecorder()
		rec.ServeHTTP(w, r)
		return w.Code
	}
	req := func(remote, host string, hdr ...string) *http.Request {
		r := httptest.NewRequest("GET", "http://"+host+"/debug/tailprobe/", nil)
		r.RemoteAddr = remote
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	cases := []struct {
		r    *http.Request
		want int
	}{
		{req("127.0.0.1:5000", "127.0.0.1:8080"), 200},
		{req("[::1]:5000", "[::1]:8080"), 200},
		{req("127.0.0.1:5000", "localhost"), 200},
		{req("10.0.0.2:5000", "127.0.0.1:8080"), 403},
		{req("127.0.0.1:5000", "127.0.0.1", "X-Forwarded-For", "1.2.3.4"), 403},
		{req("127.0.0.1:5000", "evil.example:8080"), 403},
	}
	for i, c := range cases {
		if got := serve(c.r); got != c.want {
			t.Errorf("case %d (%s, Host %s): %d, want %d", i, c.r.RemoteAddr, c.r.Host, got, c.want)
		}
	}
	tok := New(Options{Token: "s3cret"})
	defer tok.Close()
	serveTok := func(r *http.Request) int {
		w := httptest.NewRecorder()
		tok.ServeHTTP(w, r)
		return w.Code
	}
	if got := serveTok(req("10.0.0.2:5000", "svc.example", "Authorization", "Bearer s3cret")); got != 200 {
		t.Errorf("bearer token: %d", got)
	}
	r := httptest.NewRequest("GET", "http://svc.example/debug/tailprobe/gc?token=s3cret", nil)
	r.RemoteAddr = "10.0.0.2:5000"
	if got := serveTok(r); got != 200 {
		t.Errorf("?token=: %d", got)
	}
	if got := serveTok(req("127.0.0.1:5000", "127.0.0.1", "Authorization", "Bearer wrong")); got != 401 {
		t.Errorf("wrong token: %d", got)
	}
	if got := serveTok(req("127.0.0.1:5000", "127.0.0.1")); got != 401 {
		t.Errorf("no token: %d", got)
	}
	w := httptest.NewRecorder()
	r = httptest.NewRequest("POST", "http://127.0.0.1/debug/tailprobe/gc", nil)
	r.RemoteAddr = "127.0.0.1:1"
	rec.ServeHTTP(w, r)
	if w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
}

func TestTheIndexNamesTheFormatEndpointsAndFeatures(t *testing.T) {
	mux := http.NewServeMux()
	rec := New(Options{})
	defer rec.Close()
	rec.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, body := get(t, srv.URL+"/debug/tailprobe/", nil)
	var idx map[string]interface{}
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	if idx["format"] != "tailprobe-records/1" || idx["agent"] != "go/"+Version || idx["runtime"] != runtime.Version() {
		t.Errorf("index %s", body)
	}
	if fmt.Sprint(idx["features"]) != "[requests gc pprof-labels block-profile]" {
		t.Errorf("features %v", idx["features"])
	}
	if res, _ := get(t, srv.URL+"/debug/tailprobe/eventloop", nil); res.StatusCode != 404 {
		t.Errorf("eventloop: %d (Go has none)", res.StatusCode)
	}
	res, body := get(t, srv.URL+"/debug/tailprobe/runtime", nil)
	var rt struct {
		SchedLatency *Histogram `json:"schedLatency"`
		GCPauses     *Histogram `json:"gcPauses"`
		GCCPU        *float64   `json:"gcCPUFraction"`
	}
	if err := json.Unmarshal(body, &rt); err != nil || res.StatusCode != 200 {
		t.Fatal(err, string(body))
	}
	if rt.SchedLatency == nil || rt.SchedLatency.Count == 0 || rt.GCCPU == nil {
		t.Errorf("runtime %s", body)
	}
	if s := rt.SchedLatency; s != nil && !(s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.P999 && s.P999 <= s.Max) {
		t.Errorf("quantiles out of order: %+v", s)
	}
}

type gcJSON struct {
	RecordingSince string `json:"recordingSince"`
	Count          int
	TotalNs        int64
	MaxNs          int64
	Dropped        int
	Missed         int
	Pauses         []struct {
		Start    string
		Duration int64
		Kind     string
	}
}

func TestGCPausesLandOnTheTimelineWithWallClockTimes(t *testing.T) {
	rec := New(Options{GCPoll: time.Hour}) // the query polls: no waiting on the ticker
	defer rec.Close()
	mux := http.NewServeMux()
	rec.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	before := time.Now().UnixNano()
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	after := time.Now().UnixNano()
	_, body := get(t, srv.URL+"/debug/tailprobe/gc", nil)
	var g gcJSON
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if g.Count < 3 || len(g.Pauses) != g.Count || g.Dropped != 0 || g.Missed != 0 {
		t.Fatalf("gc %s", body)
	}
	var total, max int64
	for _, p := range g.Pauses[len(g.Pauses)-3:] {
		s, _ := strconv.ParseInt(p.Start, 10, 64)
		if p.Kind != "stop-the-world" || p.Duration <= 0 || s < before-1e9 || s+p.Duration > after+1e6 {
			t.Errorf("pause %+v outside %d..%d", p, before, after)
		}
	}
	for _, p := range g.Pauses {
		total += p.Duration
		if p.Duration > max {
			max = p.Duration
		}
	}
	if total != g.TotalNs || max != g.MaxNs {
		t.Errorf("totals %d/%d vs %d/%d", g.TotalNs, g.MaxNs, total, max)
	}
	// A window after every pause is empty.
	_, body = get(t, srv.URL+"/debug/tailprobe/gc?since="+strconv.FormatInt(time.Now().UnixNano()+1e9, 10), nil)
	_ = json.Unmarshal(body, &g)
	if g.Count != 0 {
		t.Errorf("future window has %d pauses", g.Count)
	}
}

func TestCyclesBeyondTheRuntimesBufferAreCountedAsMissed(t *testing.T) {
	g := newGCRecorder(1000, time.Hour)
	var ms runtime.MemStats
	g.lastNumGC = 10
	ms.NumGC = 10 + 300
	for i := range ms.PauseNs {
		ms.PauseNs[i] = 1000
		ms.PauseEnd[i] = uint64(1e18 + i)
	}
	g.recordLocked(&ms)
	if g.missed != 44 || g.total != 256 {
		t.Errorf("missed %d, recorded %d", g.missed, g.total)
	}
	// The newest cycle (310) is in slot (310-1)%256 = 53.
	if last := g.ring[255]; last.cycle != 310 || last.start != 1e18+53-1000 {
		t.Errorf("last %+v", last)
	}
}

func TestLabelsAreOnlyForValidTraceIds(t *testing.T) {
	rec := New(Options{})
	defer rec.Close()
	var got []string
	h := rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, ok := pprof.Label(r.Context(), TraceLabel)
		got = append(got, fmt.Sprintf("%s %v", l, ok))
	}))
	for _, tp := range []string{validTP, "nope", ""} {
		r := httptest.NewRequest("GET", "/", nil).WithContext(context.Background())
		if tp != "" {
			r.Header.Set("traceparent", tp)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if strings.Join(got, ",") != "4bf92f3577b34da6a3ce929d0e0e4736 true, false, false" {
		t.Errorf("labels %v", got)
	}
}

func TestGuardAppliesTheRulesToAnotherHandlerAndCloseStopsThePoller(t *testing.T) {
	rec := New(Options{Token: "t0k", GCPoll: time.Millisecond})
	defer rec.Close()
	h := rec.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "profile") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if w.Code != 401 || w.Header().Get("X-Go-Pprof") != "1" {
		t.Errorf("without the token: %d %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/debug/pprof/", nil)
	r.Header.Set("Authorization", "Bearer t0k")
	h.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.String() != "profile" {
		t.Errorf("with the token: %d %q", w.Code, w.Body.String())
	}
	rec.Close()
	time.Sleep(10 * time.Millisecond)
	runtime.GC()
	// The poller is gone, but a query still reads the runtime's buffer.
	ps, _, _, _ := rec.gc.query(0, 0)
	if len(ps) == 0 {
		t.Error("the GC after Close is not in the answer")
	}
}
