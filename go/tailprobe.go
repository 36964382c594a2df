// Package tailprobe is the Go companion of tailprobe's Node agent: it records every HTTP request
// a service finishes (W3C trace ids, wall-clock start and end, status, bytes), labels each
// request's goroutine for CPU profiles, keeps a timeline of the garbage collector's pauses, and
// serves all of it under /debug/tailprobe/ in the tailprobe-records/1 format
// (docs/records-format.md), next to net/http/pprof:
//
//	import (
//		_ "net/http/pprof"
//		"github.com/tailprobe/tailprobe/go"
//	)
//
//	http.ListenAndServe(":8080", tailprobe.Handler(http.DefaultServeMux))
//
// Handler records the requests it wraps and answers /debug/tailprobe/ itself; Register mounts
// the endpoints on a mux of your choice instead (e.g. a separate debug listener). The endpoints
// follow the Node agent's rules: without a token (TAILPROBE_AGENT_TOKEN or Options.Token) only
// loopback clients are answered. Standard library only; Go 1.19 or later.
package tailprobe

import (
	"context"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// Version of the package, as served in X-Tailprobe-Agent (go/VERSION) and the index.
const Version = "0.1.0"

// Format is the records format served.
const Format = "tailprobe-records/1"

// AgentHeader names the agent on every /debug/tailprobe/ response.
const AgentHeader = "X-Tailprobe-Agent"

// TraceLabel is the pprof label each request's goroutine carries while the handler runs (only
// for requests with a valid traceparent): CPU samples say which request they ran for.
const TraceLabel = "tailprobe_trace_id"

// MaxPath is the longest path (with its query) a record keeps, bytes.
const MaxPath = 256

// Options configure a Recorder. Zero values take the defaults.
type Options struct {
	// Requests is the capacity of the request ring (default 100 000).
	Requests int
	// GCPauses is the capacity of the GC pause ring (default 10 000).
	GCPauses int
	// GCPoll is how often the runtime's pause buffer is read (default 100 ms). The runtime keeps the
	// last 256 cycles, so pauses are lost only above 2 560 GC cycles a second; lost ones are counted.
	GCPoll time.Duration
	// Token, when set, is required on every /debug/tailprobe/ request (default: the environment's
	// TAILPROBE_AGENT_TOKEN). Without one, only loopback clients are answered.
	Token string
	// NoLabels turns the per-request pprof labels off.
	NoLabels bool
}

// Recorder records requests and GC pauses and serves them.
type Recorder struct {
	requests       *requestRing
	gc             *gcRecorder
	token          string
	labels         bool
	recordingSince int64
	startOnce      sync.Once
	mux            *http.ServeMux
}

// New returns a Recorder; its GC poller starts with the first Handler, Register or ServeHTTP.
func New(o Options) *Recorder {
	if o.Requests <= 0 {
		o.Requests = 100000
	}
	if o.GCPauses <= 0 {
		o.GCPauses = 10000
	}
	if o.GCPoll <= 0 {
		o.GCPoll = 100 * time.Millisecond
	}
	if o.Token == "" {
		o.Token = os.Getenv("TAILPROBE_AGENT_TOKEN")
	}
	rec := &Recorder{
		requests:       newRequestRing(o.Requests),
		gc:             newGCRecorder(o.GCPauses, o.GCPoll),
		token:          o.Token,
		labels:         !o.NoLabels,
		recordingSince: time.Now().UnixNano(),
	}
	rec.mux = rec.endpoints()
	return rec
}

var (
	defaultOnce sync.Once
	defaultRec  *Recorder
)

// Default is the package's Recorder (default Options), the one Handler and Register use.
func Default() *Recorder {
	defaultOnce.Do(func() { defaultRec = New(Options{}) })
	return defaultRec
}

// Handler wraps h with the default Recorder (see Recorder.Handler).
func Handler(h http.Handler) http.Handler { return Default().Handler(h) }

// Register mounts the default Recorder's endpoints on mux, at /debug/tailprobe/.
func Register(mux *http.ServeMux) { Default().Register(mux) }

func (rec *Recorder) start() { rec.startOnce.Do(rec.gc.start) }

// Close stops the Recorder's GC poller (its goroutine exits within one GCPoll). The handlers keep
// working: requests are still recorded, and each /gc request still reads the runtime's pauses,
// which covers the last 256 cycles.
func (rec *Recorder) Close() {
	rec.start() // a Recorder never started is closed too, and does not start later
	rec.gc.stop()
}

// Register mounts the endpoints on mux at /debug/tailprobe/ (and /debug/tailprobe).
func (rec *Recorder) Register(mux *http.ServeMux) {
	rec.start()
	mux.Handle("/debug/tailprobe/", rec)
	mux.Handle("/debug/tailprobe", rec)
}

func isDebugPath(p string) bool {
	return strings.HasPrefix(p, "/debug/pprof/") || p == "/debug/pprof" || strings.HasPrefix(p, "/debug/tailprobe/") || p == "/debug/tailprobe"
}

// Handler returns h wrapped: every request h finishes is recorded (not those to /debug/pprof/
// and /debug/tailprobe/, which are diagnostics, not the service's traffic); a request with a
// valid traceparent runs with the pprof label tailprobe_trace_id; /debug/tailprobe/ is answered
// by the Recorder itself.
func (rec *Recorder) Handler(h http.Handler) http.Handler {
	rec.start()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now().UnixNano() // wall clock (UnixNano ignores the monotonic reading)
		if isDebugPath(r.URL.Path) {
			if strings.HasPrefix(r.URL.Path, "/debug/tailprobe") {
				rec.ServeHTTP(w, r)
			} else {
				h.ServeHTTP(w, r)
			}
			return
		}
		var rr requestRecord
		rr.start = start
		rr.hasTrace = parseTraceparent(r.Header.Get("traceparent"), &rr.trace, &rr.parent)
		var rw recordingWriter
		ww := wrapWriter(w, &rw)
		defer func() {
			p := recover()
			rr.end = time.Now().UnixNano()
			rr.method = internMethod(r.Method)
			rr.path = cutPath(r.URL.RequestURI())
			switch {
			case rw.hijacked:
				rr.status, rr.bytes = int32(rw.status), -1
			case !rw.wrote && p != nil:
				rr.status, rr.bytes = http.StatusInternalServerError, rw.bytes
			case !rw.wrote:
				rr.status, rr.bytes = http.StatusOK, rw.bytes
			default:
				rr.status, rr.bytes = int32(rw.status), rw.bytes
			}
			// net/http cancels the request's context when the client's connection closes (and only
			// after this wrapper returns otherwise): canceled now means the client gave up first.
			rr.aborted = !rw.hijacked && r.Context().Err() != nil
			if r.Method == http.MethodHead && !rw.hijacked {
				rr.bytes = 0 // net/http eats a HEAD response's body: none was served
			}
			rec.requests.add(&rr)
			if p != nil {
				panic(p) // net/http's own recovery (and http.ErrAbortHandler) sees it unchanged
			}
		}()
		if rr.hasTrace && rec.labels {
			id := r.Header.Get("traceparent")[3:35]
			pprof.Do(r.Context(), pprof.Labels(TraceLabel, id), func(ctx context.Context) {
				h.ServeHTTP(ww, r.WithContext(ctx))
			})
			return
		}
		h.ServeHTTP(ww, r)
	})
}

func internMethod(m string) string {
	switch m {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "OPTIONS":
		return "OPTIONS"
	}
	return m
}

// cutPath keeps at most MaxPath bytes, not splitting a UTF-8 sequence.
func cutPath(p string) string {
	if len(p) <= MaxPath {
		return p
	}
	i := MaxPath
	for i > 0 && p[i]&0xC0 == 0x80 {
		i--
	}
	return p[:i]
}
