package tailprobe

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// Who may read /debug/tailprobe/: the same rules as the Node agent (docs/agent.md, "Safe by
// default"). With a token, whoever presents it (Authorization: Bearer TOKEN or ?token=TOKEN,
// compared in constant time). Without one, only this machine: a loopback peer, no proxy headers,
// and a loopback name in Host (a DNS-rebound browser page is refused).

// IsLoopbackHost reports whether host (a name or an IP, brackets allowed) is loopback.
func IsLoopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func tokenMatches(given, expected string) bool {
	a := sha256.Sum256([]byte(given))
	b := sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func presentedToken(r *http.Request) (string, bool) {
	if auth := strings.TrimSpace(r.Header.Get("Authorization")); auth != "" {
		if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
			return strings.TrimSpace(auth[7:]), true
		}
	}
	if v, ok := r.URL.Query()["token"]; ok && len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// authorize returns 0 when r may be served, else the status and the message to answer.
func authorize(r *http.Request, token string) (int, string) {
	if token != "" {
		given, ok := presentedToken(r)
		if !ok {
			return http.StatusUnauthorized, "tailprobe agent: a token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)"
		}
		if !tokenMatches(given, token) {
			return http.StatusUnauthorized, "tailprobe agent: wrong token"
		}
		return 0, ""
	}
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	if !IsLoopbackHost(peer) {
		return http.StatusForbidden, "tailprobe agent: only loopback clients without a token (you are " + peer + "); set TAILPROBE_AGENT_TOKEN to allow others"
	}
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-IP") != "" {
		return http.StatusForbidden, "tailprobe agent: proxied request refused without a token (set TAILPROBE_AGENT_TOKEN)"
	}
	if host := r.Host; host != "" {
		name := host
		if strings.HasPrefix(host, "[") {
			if i := strings.IndexByte(host, ']'); i > 0 {
				name = host[:i+1]
			}
		} else if h, _, err := net.SplitHostPort(host); err == nil {
			name = h
		}
		if !IsLoopbackHost(name) {
			return http.StatusForbidden, "tailprobe agent: Host \"" + host + "\" is not a loopback name; without a token only 127.0.0.1, [::1] and localhost are answered"
		}
	}
	return 0, ""
}

// serveError answers as net/http/pprof does (text/plain, X-Go-Pprof so go tool pprof prints it).
func serveError(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Go-Pprof", "1")
	w.Header().Del("Content-Disposition")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text + "\n"))
}

// Guard applies the same rules to another handler, e.g. net/http/pprof's on a public listener:
//
//	http.ListenAndServe(":6060", tailprobe.Guard(http.DefaultServeMux))
func (rec *Recorder) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status, msg := authorize(r, rec.token); status != 0 {
			serveError(w, status, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Guard applies the default recorder's loopback/token rules to h.
func Guard(h http.Handler) http.Handler { return Default().Guard(h) }
