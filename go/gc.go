package tailprobe

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The GC pause timeline. runtime.MemStats keeps, for each of the last 256 GC cycles, when its
// last stop-the-world pause ended (PauseEnd, wall-clock ns) and how long the cycle's pauses were
// in all (PauseNs: the sweep-termination and the mark-termination pauses, summed). A poller reads
// them every GCPoll, but calls ReadMemStats (itself a short stop-the-world) only when the
// cycle counter of runtime/metrics (read without stopping anything) says a cycle completed.
// Cycles that fell out of the runtime's 256 between two polls are counted in missed.

// gcPause is one GC cycle's stop-the-world time.
type gcPause struct {
	start    int64 // PauseEnd - PauseNs, wall ns
	duration int64 // ns
	cycle    uint32
}

type gcRecorder struct {
	poll           time.Duration
	mu             sync.Mutex
	ring           []gcPause
	next           int
	total          uint64
	missed         uint64
	lastNumGC      uint32
	recordingSince int64
	sample         []metrics.Sample
	ms             runtime.MemStats
	stopped        int32 // atomic: the poller exits at its next wake-up
}

const gcCyclesMetric = "/gc/cycles/total:gc-cycles"

func newGCRecorder(capacity int, poll time.Duration) *gcRecorder {
	return &gcRecorder{poll: poll, ring: make([]gcPause, capacity), sample: []metrics.Sample{{Name: gcCyclesMetric}}}
}

func (g *gcRecorder) start() {
	g.mu.Lock()
	runtime.ReadMemStats(&g.ms)
	g.lastNumGC = g.ms.NumGC
	g.recordingSince = time.Now().UnixNano()
	g.mu.Unlock()
	// time.Sleep, not a Ticker: a goroutine blocked on a channel is a block-profile event, and the
	// poller would show up in the service's block profile as waiting all the time.
	go func() {
		for {
			time.Sleep(g.poll)
			if atomic.LoadInt32(&g.stopped) != 0 {
				return
			}
			g.pollOnce()
		}
	}()
}

// cycles is the number of completed GC cycles, without stopping the world.
func (g *gcRecorder) cycles() (uint64, bool) {
	metrics.Read(g.sample)
	if g.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return g.sample[0].Value.Uint64(), true
}

// pollOnce records the cycles completed since the last poll.
func (g *gcRecorder) pollOnce() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n, ok := g.cycles(); ok && uint32(n) == g.lastNumGC {
		return
	}
	runtime.ReadMemStats(&g.ms)
	g.recordLocked(&g.ms)
}

func (g *gcRecorder) recordLocked(ms *runtime.MemStats) {
	newCycles := ms.NumGC - g.lastNumGC // uint32 arithmetic, as NumGC wraps
	if newCycles == 0 {
		return
	}
	first := g.lastNumGC + 1
	if newCycles > uint32(len(ms.PauseNs)) {
		g.missed += uint64(newCycles) - uint64(len(ms.PauseNs))
		first = ms.NumGC - uint32(len(ms.PauseNs)) + 1
	}
	for c := first; c != ms.NumGC+1; c++ {
		i := (c + uint32(len(ms.PauseNs)) - 1) % uint32(len(ms.PauseNs)) // cycle c's slot
		d := int64(ms.PauseNs[i])
		g.ring[g.next] = gcPause{start: int64(ms.PauseEnd[i]) - d, duration: d, cycle: c}
		g.next = (g.next + 1) % len(g.ring)
		g.total++
	}
	g.lastNumGC = ms.NumGC
}

// query returns the pauses overlapping [since, until] (0 = unbounded), oldest first. It polls
// first, so a pause that ended just before the question is in the answer.
func (g *gcRecorder) query(since, until int64) (out []gcPause, dropped, missed uint64, recordingSince int64) {
	g.pollOnce()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.ring)
	first, count := 0, int(g.total)
	if g.total > uint64(n) {
		first, count = g.next, n
		dropped = g.total - uint64(n)
	}
	for k := 0; k < count; k++ {
		p := g.ring[(first+k)%n]
		if since > 0 && p.start+p.duration < since {
			continue
		}
		if until > 0 && p.start > until {
			continue
		}
		out = append(out, p)
	}
	return out, dropped, g.missed, g.recordingSince
}

// stop ends the poller (within one GCPoll); queries still poll once themselves.
func (g *gcRecorder) stop() { atomic.StoreInt32(&g.stopped, 1) }
