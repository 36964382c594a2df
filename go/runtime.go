package tailprobe

import (
	"math"
	"runtime"
	"runtime/metrics"
	"time"
)

// /debug/tailprobe/runtime: what the Go runtime measures about itself that bears on latency,
// cumulative since the process started (two readings give the difference over a window).

// Histogram is a runtime/metrics histogram of durations, in ns: the non-empty buckets and
// quantiles. A quantile is the upper bound of the bucket it falls in (an overestimate of at most
// one bucket's width); the top bucket may be open (highNs null: reported as its lower bound).
type Histogram struct {
	Metric  string   `json:"metric"`
	Count   uint64   `json:"count"`
	P50     int64    `json:"p50Ns"`
	P90     int64    `json:"p90Ns"`
	P99     int64    `json:"p99Ns"`
	P999    int64    `json:"p999Ns"`
	Max     int64    `json:"maxNs"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket counts the durations in [LowNs, HighNs).
type Bucket struct {
	LowNs  int64  `json:"lowNs"`
	HighNs *int64 `json:"highNs"`
	Count  uint64 `json:"count"`
}

// RuntimeReport is the body of /debug/tailprobe/runtime.
type RuntimeReport struct {
	Format     string `json:"format"`
	Now        int64  `json:"now,string"`
	Runtime    string `json:"runtime"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Goroutines int    `json:"goroutines"`
	NumGC      uint32 `json:"numGC"`
	// GCCPUFraction is runtime.MemStats.GCCPUFraction: the GC's share of the CPU time available to
	// the program since it started (GOMAXPROCS x wall time), 0..1.
	GCCPUFraction float64 `json:"gcCPUFraction"`
	HeapAlloc     uint64  `json:"heapAllocBytes"`
	NextGC        uint64  `json:"nextGCBytes"`
	// SchedLatency is /sched/latencies:seconds: how long goroutines waited runnable before they ran.
	SchedLatency *Histogram `json:"schedLatency"`
	// GCPauses is /gc/pauses:seconds: the distribution of stop-the-world pause lengths.
	GCPauses *Histogram `json:"gcPauses"`
}

func readRuntime() RuntimeReport {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := RuntimeReport{
		Format:        Format,
		Now:           time.Now().UnixNano(),
		Runtime:       runtime.Version(),
		GOMAXPROCS:    runtime.GOMAXPROCS(0),
		Goroutines:    runtime.NumGoroutine(),
		NumGC:         ms.NumGC,
		GCCPUFraction: ms.GCCPUFraction,
		HeapAlloc:     ms.HeapAlloc,
		NextGC:        ms.NextGC,
	}
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}, {Name: "/gc/pauses:seconds"}}
	metrics.Read(s)
	r.SchedLatency = histogramOf(s[0])
	r.GCPauses = histogramOf(s[1])
	return r
}

func secondsToNs(s float64) int64 {
	switch {
	case math.IsInf(s, -1) || s < 0:
		return 0
	case math.IsInf(s, 1) || s*1e9 >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(math.Round(s * 1e9))
}

// histogramOf converts a runtime/metrics histogram; nil when this Go does not have the metric.
func histogramOf(s metrics.Sample) *Histogram {
	if s.Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	h := s.Value.Float64Histogram()
	out := &Histogram{Metric: s.Name, Buckets: []Bucket{}}
	for _, c := range h.Counts {
		out.Count += c
	}
	qs := []float64{0.5, 0.9, 0.99, 0.999}
	dst := []*int64{&out.P50, &out.P90, &out.P99, &out.P999}
	var cum uint64
	q := 0
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		b := Bucket{LowNs: secondsToNs(h.Buckets[i]), Count: c}
		top := b.LowNs
		if !math.IsInf(h.Buckets[i+1], 1) {
			hi := secondsToNs(h.Buckets[i+1])
			b.HighNs = &hi
			top = hi
		}
		out.Buckets = append(out.Buckets, b)
		cum += c
		for q < len(qs) && float64(cum) >= qs[q]*float64(out.Count) {
			*dst[q] = top
			q++
		}
		out.Max = top
	}
	return out
}
