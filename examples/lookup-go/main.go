// lookup-go is the story's service in Go: GET /api/lookup?key=k0000042 answers with the entry and
// its related entries, read from a shared map behind a lock and rendered into a bytes.Buffer.
// net/http/pprof and the tailprobe middleware are mounted; block and mutex profiling are on.
//
//	go run . -fix=none      a fresh bytes.Buffer per response, one sync.Mutex on the map (both faults)
//	go run . -fix=pool      buffers from a sync.Pool (Reset before use), still the Mutex
//	go run . -fix=rwmutex   the pool and a sync.RWMutex: readers share the map
//
// Nothing sleeps: the tail is made of the garbage collector (fresh buffers) and of the queue on
// the lock behind readers of popular entries, and the profiles show both. Once listening it
// prints one line (read by tailprobe demo):
//
//	lookup ready url=http://127.0.0.1:8080 pprof=http://127.0.0.1:8080 alloc=fresh lock=mutex entries=200000 ...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	tailprobe "github.com/tailprobe/tailprobe/go"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0 = any free one)")
	fix := flag.String("fix", "none", "none (both faults), pool (sync.Pool buffers), rwmutex (pool + sync.RWMutex)")
	entries := flag.Int("entries", 200000, "table size")
	history := flag.Int("history", 32, "samples in each entry's history")
	related := flag.Int("related", 8, "related entries read per lookup")
	popularEvery := flag.Int("popular-every", 400, "every Nth entry is popular (0 = none)")
	popularRelated := flag.Int("popular-related", 2000, "related entries of a popular entry")
	bufferKiB := flag.Int("buffer-kib", 512, "capacity of each fresh response buffer, KiB (sized for the largest response)")
	refresh := flag.Duration("refresh", time.Second, "the writer replaces 0.1% of the table this often (0 = never)")
	gogc := flag.Int("gogc", 0, "GOGC for the process (0 = leave the runtime's, GOGC env or 100)")
	blockRate := flag.Int("block-rate", 1, "runtime.SetBlockProfileRate (ns; 1 = every event)")
	mutexFraction := flag.Int("mutex-fraction", 1, "runtime.SetMutexProfileFraction")
	watchStdin := flag.Bool("watch-stdin", false, "exit when stdin closes (tailprobe demo: the service never outlives it)")
	exitAfter := flag.Duration("exit-after", 0, "exit after this long (0 = never)")
	flag.Parse()

	var pool, rw bool
	switch *fix {
	case "none":
	case "pool":
		pool = true
	case "rwmutex":
		pool, rw = true, true
	default:
		fmt.Fprintf(os.Stderr, "lookup: invalid -fix %q: expected none, pool or rwmutex\n", *fix)
		os.Exit(2)
	}
	if *entries < 1 {
		fmt.Fprintln(os.Stderr, "lookup: -entries must be at least 1")
		os.Exit(2)
	}
	if *gogc != 0 {
		debug.SetGCPercent(*gogc)
	}
	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFraction)

	t0 := time.Now()
	table := NewTable(TableOptions{Entries: *entries, History: *history, Related: *related,
		PopularEvery: *popularEvery, PopularRelated: *popularRelated, RWMutex: rw, Seed: 1})
	buildMs := time.Since(t0).Milliseconds()

	svc := &service{table: table, pool: pool, bufferSize: *bufferKiB << 10}
	svc.buffers.New = func() interface{} { return bytes.NewBuffer(make([]byte, 0, svc.bufferSize)) }
	http.HandleFunc("/api/lookup", svc.lookup)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })

	if *refresh > 0 {
		count := *entries / 1000
		if count < 1 {
			count = 1
		}
		go func() {
			for { // Sleep, not time.Tick: a channel wait would be in the block profile
				time.Sleep(*refresh)
				table.Refresh(count)
			}
		}()
	}
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	if *exitAfter > 0 {
		time.AfterFunc(*exitAfter, func() { os.Exit(0) })
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lookup: %v\n", err)
		os.Exit(1)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	alloc, lock := "fresh", "mutex"
	if pool {
		alloc = "pool"
	}
	if rw {
		lock = "rwmutex"
	}
	url := "http://" + ln.Addr().String()
	fmt.Printf("lookup ready url=%s pprof=%s alloc=%s lock=%s entries=%d heapMB=%d buildMs=%d gogc=%s pid=%d\n",
		url, url, alloc, lock, *entries, ms.HeapAlloc>>20, buildMs, gogcText(*gogc), os.Getpid())
	// One line mounts the tailprobe middleware (and /debug/tailprobe/) over everything, pprof included.
	srv := &http.Server{Handler: tailprobe.Handler(http.DefaultServeMux), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "lookup: %v\n", err)
		os.Exit(1)
	}
}

func gogcText(flagValue int) string {
	if flagValue != 0 {
		return strconv.Itoa(flagValue)
	}
	if v := os.Getenv("GOGC"); v != "" {
		return v
	}
	return "100"
}

type service struct {
	table      *Table
	pool       bool
	bufferSize int
	buffers    sync.Pool
}

// lookup answers GET /api/lookup?key=K.
func (s *service) lookup(w http.ResponseWriter, r *http.Request) {
	key := queryKey(r.URL.RawQuery)
	if key == "" {
		http.Error(w, "missing ?key=", http.StatusBadRequest)
		return
	}
	var buf *bytes.Buffer
	if s.pool {
		// The fix: a buffer from the pool, emptied of the previous response, back when done.
		buf = s.buffers.Get().(*bytes.Buffer)
		buf.Reset()
		defer s.buffers.Put(buf)
	} else {
		// The fault: a fresh buffer per response, garbage as soon as the response is written.
		buf = bytes.NewBuffer(make([]byte, 0, s.bufferSize))
	}
	found, err := s.table.Lookup(key, buf)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case !found:
		http.Error(w, "no such key", http.StatusNotFound)
	default:
		h := w.Header()
		h["Content-Type"] = jsonType
		h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
		_, _ = w.Write(buf.Bytes())
	}
}

var jsonType = []string{"application/json"}

// queryKey is the key= parameter of a raw query (keys are plain ASCII: no decoding).
func queryKey(q string) string {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if strings.HasPrefix(kv, "key=") {
			return kv[4:]
		}
	}
	return ""
}
