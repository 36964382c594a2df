package tailprobe

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// recordingWriter counts what the handler sends: the status and the body bytes. It passes
// Flush, Push, ReadFrom (sendfile) and, when the server's writer has it, Hijack through, and
// Unwrap lets http.ResponseController (Go 1.20+) reach the server's writer for the rest.
type recordingWriter struct {
	w        http.ResponseWriter
	status   int
	bytes    int64
	wrote    bool
	hijacked bool
}

// hijackingWriter is a recordingWriter over a writer that can be hijacked (HTTP/1.x). A separate
// type so that `w.(http.Hijacker)` stays false for HTTP/2, as it is without the middleware.
type hijackingWriter struct{ *recordingWriter }

func wrapWriter(w http.ResponseWriter, rw *recordingWriter) http.ResponseWriter {
	*rw = recordingWriter{w: w}
	if _, ok := w.(http.Hijacker); ok {
		return hijackingWriter{rw}
	}
	return rw
}

func (rw *recordingWriter) Header() http.Header { return rw.w.Header() }

func (rw *recordingWriter) WriteHeader(code int) {
	// 1xx informational responses (103 Early Hints) may come before the real one; 101 is final.
	if !rw.wrote && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		rw.status = code
		rw.wrote = true
	}
	rw.w.WriteHeader(code)
}

func (rw *recordingWriter) Write(b []byte) (int, error) {
	if !rw.wrote {
		rw.status, rw.wrote = http.StatusOK, true
	}
	n, err := rw.w.Write(b)
	rw.bytes += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy(w, file) on the server's sendfile path.
func (rw *recordingWriter) ReadFrom(r io.Reader) (int64, error) {
	if !rw.wrote {
		rw.status, rw.wrote = http.StatusOK, true
	}
	var n int64
	var err error
	if rf, ok := rw.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{rw.w}, r)
	}
	rw.bytes += n
	return n, err
}

type writerOnly struct{ io.Writer }

func (rw *recordingWriter) Flush() {
	if f, ok := rw.w.(http.Flusher); ok {
		if !rw.wrote {
			rw.status, rw.wrote = http.StatusOK, true
		}
		f.Flush()
	}
}

func (rw *recordingWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := rw.w.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap is what http.ResponseController (Go 1.20+) looks for.
func (rw *recordingWriter) Unwrap() http.ResponseWriter { return rw.w }

func (hw hijackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, b, err := hw.w.(http.Hijacker).Hijack()
	if err == nil {
		hw.hijacked = true
	}
	return c, b, err
}
