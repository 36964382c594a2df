package tailprobe

import (
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"
)

// The /debug/tailprobe/ endpoints, in the tailprobe-records/1 format (docs/records-format.md).

// Features are what a Go service can record (docs/records-format.md): no per-request lock waits
// and no event-loop stalls; lock waits come as aggregates in the block and mutex profiles.
var Features = []string{"requests", "gc", "pprof-labels", "block-profile"}

// Endpoints served (net/http/pprof's index is the service's own).
var Endpoints = []string{"/debug/pprof/", "/debug/tailprobe/requests", "/debug/tailprobe/gc", "/debug/tailprobe/runtime"}

type indexBody struct {
	Format    string   `json:"format"`
	Agent     string   `json:"agent"`
	Runtime   string   `json:"runtime"`
	Pid       int      `json:"pid"`
	Now       int64    `json:"now,string"`
	Endpoints []string `json:"endpoints"`
	Features  []string `json:"features"`
}

type requestsBody struct {
	Format         string          `json:"format"`
	Now            int64           `json:"now,string"`
	RecordingSince int64           `json:"recordingSince,string"`
	Capacity       int             `json:"capacity"`
	Recorded       uint64          `json:"recorded"`
	Dropped        uint64          `json:"dropped"`
	Requests       []RequestRecord `json:"requests"`
}

// GCPause is a pause as served by /debug/tailprobe/gc.
type GCPause struct {
	Start    int64  `json:"start,string"`
	Duration int64  `json:"duration"`
	Kind     string `json:"kind"`
}

type gcBody struct {
	Now            int64     `json:"now,string"`
	RecordingSince int64     `json:"recordingSince,string"`
	Dropped        uint64    `json:"dropped"`
	Missed         uint64    `json:"missed"`
	Count          int       `json:"count"`
	TotalNs        int64     `json:"totalNs"`
	MaxNs          int64     `json:"maxNs"`
	Pauses         []GCPause `json:"pauses"`
}

func (rec *Recorder) endpoints() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/tailprobe/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/tailprobe/" {
			serveError(w, http.StatusNotFound, "Unknown endpoint (have: requests, gc, runtime; Go has no event loop, its scheduling latency is in runtime)")
			return
		}
		sendJSON(w, indexBody{Format: Format, Agent: "go/" + Version, Runtime: runtime.Version(), Pid: os.Getpid(),
			Now: time.Now().UnixNano(), Endpoints: Endpoints, Features: Features})
	})
	m.HandleFunc("/debug/tailprobe/requests", func(w http.ResponseWriter, r *http.Request) {
		since, until, ok := window(w, r)
		if !ok {
			return
		}
		recs, recorded, dropped := rec.requests.query(since, until)
		sendJSON(w, requestsBody{Format: Format, Now: time.Now().UnixNano(), RecordingSince: rec.recordingSince,
			Capacity: len(rec.requests.recs), Recorded: recorded, Dropped: dropped, Requests: recs})
	})
	m.HandleFunc("/debug/tailprobe/gc", func(w http.ResponseWriter, r *http.Request) {
		since, until, ok := window(w, r)
		if !ok {
			return
		}
		ps, dropped, missed, recordingSince := rec.gc.query(since, until)
		b := gcBody{Now: time.Now().UnixNano(), RecordingSince: recordingSince, Dropped: dropped, Missed: missed, Count: len(ps), Pauses: make([]GCPause, len(ps))}
		for i, p := range ps {
			b.Pauses[i] = GCPause{Start: p.start, Duration: p.duration, Kind: "stop-the-world"}
			b.TotalNs += p.duration
			if p.duration > b.MaxNs {
				b.MaxNs = p.duration
			}
		}
		sendJSON(w, b)
	})
	m.HandleFunc("/debug/tailprobe/runtime", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, readRuntime())
	})
	return m
}

// ServeHTTP answers /debug/tailprobe/*, after the loopback/token check.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.start()
	h := w.Header()
	h.Set(AgentHeader, "go/"+Version)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if status, msg := authorize(r, rec.token); status != 0 {
		serveError(w, status, msg)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		serveError(w, http.StatusMethodNotAllowed, "method not allowed: use GET")
		return
	}
	if r.URL.Path == "/debug/tailprobe" {
		r2 := *r
		u := *r.URL
		u.Path = "/debug/tailprobe/"
		r2.URL = &u
		r = &r2
	}
	rec.mux.ServeHTTP(w, r)
}

func sendJSON(w http.ResponseWriter, body interface{}) {
	b, err := json.Marshal(body)
	if err != nil {
		serveError(w, http.StatusInternalServerError, "tailprobe agent: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// window reads since/until (epoch ns, decimal digits; absent = unbounded), or answers 400.
func window(w http.ResponseWriter, r *http.Request) (since, until int64, ok bool) {
	q := r.URL.Query()
	parse := func(name string) (int64, bool) {
		v := q.Get(name)
		if v == "" {
			return 0, true
		}
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil || len(v) > 20 || v[0] == '+' {
			show := v
			if len(show) > 40 {
				show = show[:40]
			}
			serveError(w, http.StatusBadRequest, "since/until: expected epoch nanoseconds, got \""+show+"\"")
			return 0, false
		}
		return int64(n), true
	}
	if since, ok = parse("since"); !ok {
		return
	}
	until, ok = parse("until")
	return
}
