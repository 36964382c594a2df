package main

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
)

// The lookup service's shared, read-mostly table: a map of entries, each a small object graph
// (tags, a history of samples, keys of related entries), kept for the life of the process: the
// heap the garbage collector marks on every cycle. A rare writer replaces a batch of entries every
// second. Readers want an entry and the related entries it links to consistent with each other,
// so a read holds the table's lock while it reads them and renders the response from them:
//
//   - lock=mutex: one sync.Mutex (the story's fault). Readers exclude each other; a reader of a
//     popular entry (one that relates to a thousand others) holds everybody up while it reads.
//   - lock=rwmutex: a sync.RWMutex (the fix). Readers share it; only the writer is exclusive.

// Sample is one point of an entry's history.
type Sample struct {
	T int64 // epoch ms
	V int64 // thousandths
}

// Entry is one row of the table.
type Entry struct {
	Key     string
	Name    string
	Version int
	Tags    []string
	Region  string
	Tier    int
	History []Sample
	Related []string
}

// TableOptions size the table.
type TableOptions struct {
	Entries        int
	History        int
	Related        int
	PopularEvery   int // every Nth entry is popular (0 = none)
	PopularRelated int // related entries of a popular entry
	RWMutex        bool
	Seed           uint32
}

// Table is the shared map behind its lock.
type Table struct {
	opts       TableOptions
	keys       []string     // every key once: related lists share these strings
	rw         bool         // lock=rwmutex: readers take mu's read lock
	mu         sync.Mutex   // lock=mutex: the one lock every reader and the writer take
	rwmu       sync.RWMutex // lock=rwmutex
	entries    map[string]*Entry
	rand       uint32
	generation int
}

var (
	regions = []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1", "ap-northeast-1"}
	owners  = []string{"search", "billing", "catalog", "identity", "payments", "ads", "maps", "mail"}
	tags    = []string{"hot", "cold", "pinned", "beta", "legacy", "shared", "internal", "public", "eu", "us"}
)

// KeyOf is entry i's key: k + 7 digits, as the Node service's (the demo's targets fit both).
func KeyOf(i int) string {
	b := [8]byte{'k', '0', '0', '0', '0', '0', '0', '0'}
	d := strconv.AppendInt(nil, int64(i), 10)
	if len(d) > 7 {
		return "k" + string(d)
	}
	copy(b[8-len(d):], d)
	return string(b[:])
}

// NewTable builds the table (deterministic for a seed).
func NewTable(o TableOptions) *Table {
	t := &Table{opts: o, entries: make(map[string]*Entry, o.Entries), rand: o.Seed | 1, keys: make([]string, o.Entries)}
	for i := range t.keys {
		t.keys[i] = KeyOf(i)
	}
	t.rw = o.RWMutex
	for i := 0; i < o.Entries; i++ {
		e := t.makeEntry(i, 0)
		t.entries[e.Key] = e
	}
	return t
}

func (t *Table) next() uint32 { // xorshift32
	x := t.rand
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	t.rand = x
	return x
}

// IsPopular reports whether entry i is one of the popular items.
func (t *Table) IsPopular(i int) bool { return t.opts.PopularEvery > 0 && i%t.opts.PopularEvery == 0 }

func (t *Table) makeEntry(i, gen int) *Entry {
	e := &Entry{Key: t.keys[i], Name: "item " + strconv.Itoa(i) + " of " + owners[i%len(owners)], Version: gen,
		Region: regions[i%len(regions)], Tier: i % 4}
	for n := 1 + int(t.next()%3); n > 0; n-- {
		e.Tags = append(e.Tags, tags[t.next()%uint32(len(tags))])
	}
	t0 := int64(1_700_000_000_000 + i*1000)
	e.History = make([]Sample, t.opts.History)
	for h := range e.History {
		e.History[h] = Sample{T: t0 + int64(h)*60_000, V: int64(t.next() % 1_000_000)}
	}
	n := t.opts.Related
	if t.IsPopular(i) {
		n = t.opts.PopularRelated
	}
	e.Related = make([]string, n)
	for k := range e.Related {
		e.Related[k] = t.keys[t.next()%uint32(t.opts.Entries)]
	}
	return e
}

// Lookup renders key's entry and its related entries into buf, under the table's read lock
// (mutex: exclusive). False when there is no such key.
func (t *Table) Lookup(key string, buf *bytes.Buffer) (bool, error) {
	// The read lock: where a block profile finds readers queueing (sync.(*Mutex).Lock here).
	if t.rw {
		t.rwmu.RLock()
		defer t.rwmu.RUnlock()
	} else {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	e := t.entries[key]
	if e == nil {
		return false, nil
	}
	var scratch [24]byte
	buf.WriteString(`{"entry":`)
	if err := renderEntry(buf, e, scratch[:0]); err != nil {
		return false, err
	}
	buf.WriteString(`,"related":[`)
	for i, k := range e.Related {
		r := t.entries[k]
		if r == nil {
			continue
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := renderEntry(buf, r, scratch[:0]); err != nil {
			return false, err
		}
	}
	buf.WriteString("]}\n")
	return true, nil
}

// renderEntry writes an entry as JSON, checking its history is in time order as it goes.
func renderEntry(buf *bytes.Buffer, e *Entry, scratch []byte) error {
	buf.WriteString(`{"key":"`)
	buf.WriteString(e.Key)
	buf.WriteString(`","name":"`)
	buf.WriteString(e.Name)
	buf.WriteString(`","version":`)
	buf.Write(strconv.AppendInt(scratch, int64(e.Version), 10))
	buf.WriteString(`,"region":"`)
	buf.WriteString(e.Region)
	buf.WriteString(`","tier":`)
	buf.Write(strconv.AppendInt(scratch, int64(e.Tier), 10))
	buf.WriteString(`,"tags":[`)
	for i, tg := range e.Tags {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('"')
		buf.WriteString(tg)
		buf.WriteByte('"')
	}
	buf.WriteString(`],"history":[`)
	for i, s := range e.History {
		if i > 0 {
			if s.T <= e.History[i-1].T {
				return fmt.Errorf("corrupt entry %s: history out of order", e.Key)
			}
			buf.WriteByte(',')
		}
		buf.WriteByte('[')
		buf.Write(strconv.AppendInt(scratch, s.T, 10))
		buf.WriteByte(',')
		buf.Write(strconv.AppendInt(scratch, s.V, 10))
		buf.WriteByte(']')
	}
	buf.WriteString(`]}`)
	return nil
}

// Refresh is the rare writer: count entries replaced by new versions, built outside the lock,
// swapped in under it.
func (t *Table) Refresh(count int) {
	t.generation++
	fresh := make([]*Entry, count)
	for n := range fresh {
		fresh[n] = t.makeEntry(int(t.next()%uint32(t.opts.Entries)), t.generation)
	}
	if t.rw {
		t.rwmu.Lock()
		defer t.rwmu.Unlock()
	} else {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	for _, e := range fresh {
		t.entries[e.Key] = e
	}
}
