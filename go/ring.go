package tailprobe

import (
	"encoding/hex"
	"sort"
	"sync"
)

// requestRecord is one finished request. The ids are kept as bytes, not strings, so the ring
// (100 000 records by default) holds few pointers for the garbage collector to scan.
type requestRecord struct {
	start, end int64 // wall clock, ns since the epoch
	bytes      int64
	status     int32
	hasTrace   bool
	aborted    bool // the client was gone (request context canceled) before the handler returned
	trace      [16]byte
	parent     [8]byte
	method     string
	path       string
}

// RequestRecord is a record as served by /debug/tailprobe/requests.
type RequestRecord struct {
	Trace  string `json:"trace"`
	Parent string `json:"parent"`
	Start  int64  `json:"start,string"`
	End    int64  `json:"end,string"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Bytes  int64  `json:"bytes"`
	// Aborted is true when the client's connection closed before the handler returned.
	Aborted bool `json:"aborted,omitempty"`
}

// requestRing is a fixed-size ring of records, the oldest overwritten first.
type requestRing struct {
	mu    sync.Mutex
	recs  []requestRecord
	next  int
	total uint64
}

func newRequestRing(capacity int) *requestRing {
	return &requestRing{recs: make([]requestRecord, capacity)}
}

func (r *requestRing) add(rec *requestRecord) {
	r.mu.Lock()
	r.recs[r.next] = *rec
	r.next++
	if r.next == len(r.recs) {
		r.next = 0
	}
	r.total++
	r.mu.Unlock()
}

// stats returns how many records were added and how many the ring overwrote.
func (r *requestRing) stats() (recorded, dropped uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statsLocked()
}

func (r *requestRing) statsLocked() (recorded, dropped uint64) {
	if c := uint64(len(r.recs)); r.total > c {
		return r.total, r.total - c
	}
	return r.total, 0
}

// query returns the records whose [start, end] overlaps [since, until] (0 = unbounded), oldest
// first by start, with the ring's counters as of the same instant.
func (r *requestRing) query(since, until int64) (out []RequestRecord, recorded, dropped uint64) {
	r.mu.Lock()
	n := len(r.recs)
	first := 0
	count := int(r.total)
	if r.total > uint64(n) {
		first, count = r.next, n
	}
	// Copy under the lock, format outside it: the service's requests wait for this lock.
	picked := make([]requestRecord, 0, 64)
	for k := 0; k < count; k++ {
		rec := &r.recs[(first+k)%n]
		if since > 0 && rec.end < since {
			continue
		}
		if until > 0 && rec.start > until {
			continue
		}
		picked = append(picked, *rec)
	}
	recorded, dropped = r.statsLocked()
	r.mu.Unlock()
	// The ring is in the order requests finished; the format serves them oldest first by start.
	sort.SliceStable(picked, func(i, j int) bool { return picked[i].start < picked[j].start })
	out = make([]RequestRecord, len(picked))
	for i := range picked {
		p := &picked[i]
		o := &out[i]
		if p.hasTrace {
			o.Trace = hex.EncodeToString(p.trace[:])
			o.Parent = hex.EncodeToString(p.parent[:])
		}
		o.Start, o.End = p.start, p.end
		o.Method, o.Path = p.method, p.path
		o.Status, o.Bytes = int(p.status), p.bytes
		o.Aborted = p.aborted
	}
	return out, recorded, dropped
}
