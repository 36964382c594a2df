package tailprobe

// W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header):
//
//	traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//	             version-trace id (16 bytes)-parent span id (8 bytes)-flags
//
// A header that does not follow the rules is ignored as a whole (the spec says to start a new
// trace then), so a record's trace and parent are both empty.

// ParseTraceparent returns the trace id and parent span id of a traceparent header value, as
// lower-case hex, and whether the header was valid. Version 00 must be exactly 55 characters;
// a later version may append fields after a '-' (and is read for its first four). Version ff,
// upper-case hex, an all-zero trace id or parent id are invalid.
func ParseTraceparent(h string) (trace, parent string, ok bool) {
	var t [16]byte
	var p [8]byte
	if !parseTraceparent(h, &t, &p) {
		return "", "", false
	}
	return h[3:35], h[36:52], true
}

func parseTraceparent(h string, trace *[16]byte, parent *[8]byte) bool {
	if len(h) < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return false
	}
	ver, ok := hexByte(h[0], h[1])
	if !ok || ver == 0xff {
		return false
	}
	if ver == 0 && len(h) != 55 {
		return false
	}
	if len(h) > 55 && h[55] != '-' {
		return false
	}
	if _, ok := hexByte(h[53], h[54]); !ok {
		return false
	}
	var nonzero byte
	for i := 0; i < 16; i++ {
		b, ok := hexByte(h[3+2*i], h[4+2*i])
		if !ok {
			return false
		}
		trace[i] = b
		nonzero |= b
	}
	if nonzero == 0 {
		return false
	}
	nonzero = 0
	for i := 0; i < 8; i++ {
		b, ok := hexByte(h[36+2*i], h[37+2*i])
		if !ok {
			return false
		}
		parent[i] = b
		nonzero |= b
	}
	return nonzero != 0
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false // upper case is invalid in traceparent
}

func hexByte(hi, lo byte) (byte, bool) {
	h, ok1 := hexNibble(hi)
	l, ok2 := hexNibble(lo)
	return h<<4 | l, ok1 && ok2
}
