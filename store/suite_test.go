package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// runSuite is the contract every backend must meet. open returns a fresh,
// empty store; the suite closes it (closing twice must be harmless).
func runSuite(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	openStore := func(t *testing.T) Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}

	t.Run("Sessions", func(t *testing.T) { testSessions(t, openStore(t)) })
	t.Run("InsertGetRoundtrip", func(t *testing.T) {
		s := openStore(t)
		cst := time.FixedZone("CST", 8*3600)
		tests := []struct {
			name string
			in   Record
		}{
			{"all fields, vars, non-UTC time with ns", Record{
				ID: "01JDROUNDTRIP0000000000001", User: "alice", Bucket: "examplebucket", Key: "uploads/alice/2026/11/25/a.jpg",
				Size: 12345, ContentType: "image/jpeg", ETag: `"5B3C1A2E053D763E1B002CC607C5A0FE"`, Filename: "cat.jpg",
				Vars:      map[string]string{"caption": "hi \"there\" <b>&", "album": "猫"},
				CreatedAt: time.Date(2026, 11, 25, 16, 30, 0, 123456789, cst),
			}},
			{"nil vars", Record{
				ID: "r2", User: "alice", Bucket: "b", Key: "k2", Size: 1, ContentType: "text/plain", ETag: "e", Filename: "a.txt",
				CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
			}},
			{"empty vars, empty optional strings, size 0", Record{
				ID: "r3", User: "alice", Bucket: "b", Key: "k3", Vars: map[string]string{},
				CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC),
			}},
			{"unicode and odd text", Record{
				ID: "r4", User: "bob@example.com", Bucket: "b", Key: "uploads/x/文件 名.pdf", Size: 1 << 40,
				ContentType: "application/pdf", ETag: "", Filename: "文件 名'; DROP TABLE uploads;--.pdf",
				Vars:      map[string]string{"empty": "", "q": `{"a":1}`},
				CreatedAt: time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC),
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := wantStored(tt.in)
				got, created, err := s.Insert(ctx, tt.in)
				if err != nil || !created {
					t.Fatalf("Insert: created=%v err=%v, want created=true, nil", created, err)
				}
				if d := diffRecord(got, want); d != "" {
					t.Errorf("Insert returned %s", d)
				}
				got, err = s.Get(ctx, tt.in.User, tt.in.ID)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if d := diffRecord(got, want); d != "" {
					t.Errorf("Get returned %s", d)
				}
				if got.CreatedAt.Location() != time.UTC {
					t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
				}
				if d := tt.in.CreatedAt.Sub(got.CreatedAt); d < 0 || d >= time.Microsecond {
					t.Errorf("CreatedAt lost %v, want < 1µs (at least ms precision)", d)
				}
				b, err := json.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				if tt.in.Vars == nil && !bytes.Contains(b, []byte(`"vars":{}`)) {
					t.Errorf("JSON = %s, want \"vars\":{}", b)
				}
			})
		}
	})

	t.Run("InsertRefusesInvalid", func(t *testing.T) {
		s := openStore(t)
		good := rec("v1", "alice", "k", at(0))
		tests := []struct {
			name string
			mod  func(r *Record)
		}{
			{"empty ID", func(r *Record) { r.ID = "" }},
			{"empty User", func(r *Record) { r.User = "" }},
			{"empty Bucket", func(r *Record) { r.Bucket = "" }},
			{"empty Key", func(r *Record) { r.Key = "" }},
			{"zero CreatedAt", func(r *Record) { r.CreatedAt = time.Time{} }},
			{"CreatedAt past year 9999", func(r *Record) { r.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
			{"negative Size", func(r *Record) { r.Size = -1 }},
			{"NUL in Filename", func(r *Record) { r.Filename = "a\x00b" }},
			{"invalid UTF-8 in Key", func(r *Record) { r.Key = "k\xff" }},
			{"invalid UTF-8 in a var", func(r *Record) { r.Vars = map[string]string{"a": "\xc3"} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := good
				tt.mod(&r)
				_, created, err := s.Insert(ctx, r)
				if !errors.Is(err, ErrInvalid) || created {
					t.Errorf("Insert: created=%v err=%v, want false, ErrInvalid", created, err)
				}
			})
		}
		if recs, _, err := s.List(ctx, "alice", 10, ""); err != nil || len(recs) != 0 {
			t.Errorf("after refused inserts List = %d records, %v; want 0, nil", len(recs), err)
		}
	})

	t.Run("DuplicateBucketKey", func(t *testing.T) {
		s := openStore(t)
		first := rec("first", "alice", "uploads/same.jpg", at(0))
		first.Vars = map[string]string{"v": "1"}
		if _, created, err := s.Insert(ctx, first); err != nil || !created {
			t.Fatalf("first Insert: created=%v err=%v", created, err)
		}
		tests := []struct {
			name string
			in   Record
		}{
			{"same record again", first},
			{"new id and fields, same bucket+key", Record{ID: "second", User: "mallory", Bucket: first.Bucket, Key: first.Key,
				Size: 999, ContentType: "text/plain", ETag: "other", Filename: "x", Vars: map[string]string{"v": "2"}, CreatedAt: at(5)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, created, err := s.Insert(ctx, tt.in)
				if err != nil || created {
					t.Fatalf("Insert: created=%v err=%v, want false, nil", created, err)
				}
				if d := diffRecord(got, wantStored(first)); d != "" {
					t.Errorf("Insert returned %s", d)
				}
			})
		}
		if _, err := s.Get(ctx, "mallory", "second"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(second) err = %v, want ErrNotFound (nothing stored)", err)
		}
		// Same bucket, other key: a different object, so a new record.
		if _, created, err := s.Insert(ctx, rec("third", "alice", "uploads/other.jpg", at(1))); err != nil || !created {
			t.Errorf("Insert other key: created=%v err=%v, want true, nil", created, err)
		}
		// An ID reused for another object is a caller bug: an error, not a silent no-op.
		if _, created, err := s.Insert(ctx, rec("first", "alice", "uploads/yet-another.jpg", at(2))); !errors.Is(err, ErrInvalid) || created {
			t.Errorf("Insert reused ID: created=%v err=%v, want false, ErrInvalid", created, err)
		}
		assertCount(t, s, "alice", 2)
	})

	t.Run("Get", func(t *testing.T) {
		s := openStore(t)
		r := rec("g1", "alice", "k1", at(0))
		if _, _, err := s.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			user, id string
			wantErr  error
		}{
			{"owner", "alice", "g1", nil},
			{"other user", "bob", "g1", ErrNotFound},
			{"user differing in case", "Alice", "g1", ErrNotFound},
			{"missing id", "alice", "nope", ErrNotFound},
			{"empty id", "alice", "", ErrNotFound},
			{"empty user", "", "g1", ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Get(ctx, tt.user, tt.id)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Get err = %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == nil {
					if d := diffRecord(got, wantStored(r)); d != "" {
						t.Errorf("Get returned %s", d)
					}
				}
			})
		}
	})

	t.Run("ListPaging", func(t *testing.T) {
		s := openStore(t)
		// Seven of alice's, three sharing one instant and two another, with
		// IDs whose byte order differs from a case-insensitive order (so a
		// locale collation would show); bob's are interleaved at the same
		// instants.
		alice := []Record{
			rec("a-old", "alice", "k1", at(0)),
			rec("Btie", "alice", "k2", at(10)),
			rec("atie", "alice", "k3", at(10)),
			rec("ctie", "alice", "k4", at(10)),
			rec("mid", "alice", "k5", at(20)),
			rec("Z2", "alice", "k6", at(30)),
			rec("z1", "alice", "k7", at(30)),
		}
		bob := []Record{
			rec("bob-1", "bob", "b1", at(10)),
			rec("bob-2", "bob", "b2", at(30)),
			rec("bob-3", "bob", "b3", at(40)),
		}
		for _, r := range append(append([]Record{}, alice...), bob...) {
			if _, created, err := s.Insert(ctx, r); err != nil || !created {
				t.Fatalf("Insert %s: created=%v err=%v", r.ID, created, err)
			}
		}
		want := newestFirst(alice)
		wantIDs := ids(want)
		if got := strings.Join(wantIDs, ","); got != "z1,Z2,mid,ctie,atie,Btie,a-old" {
			t.Fatalf("test's own expected order = %s", got)
		}
		for _, limit := range []int{1, 2, 3, 6, 7, 8, 200} {
			t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
				got, pages := listAll(t, s, "alice", limit)
				if d := diffIDs(ids(got), wantIDs); d != "" {
					t.Errorf("pages visited %s", d)
				}
				if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
					t.Errorf("pages = %d, want %d (no empty trailing page)", pages, wantPages)
				}
				for i := range got {
					if d := diffRecord(got[i], wantStored(want[i])); d != "" {
						t.Errorf("record %d: %s", i, d)
					}
				}
			})
		}
		t.Run("other users never listed", func(t *testing.T) {
			got, _ := listAll(t, s, "bob", 2)
			if d := diffIDs(ids(got), []string{"bob-3", "bob-2", "bob-1"}); d != "" {
				t.Errorf("bob's list %s", d)
			}
			got, _ = listAll(t, s, "carol", 2)
			if len(got) != 0 {
				t.Errorf("carol's list = %v, want empty", ids(got))
			}
		})
		t.Run("insert while paging", func(t *testing.T) {
			page1, cur, err := s.List(ctx, "alice", 3, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Insert(ctx, rec("newest", "alice", "k-new", at(99))); err != nil {
				t.Fatal(err)
			}
			rest, _ := listFrom(t, s, "alice", 3, cur)
			if d := diffIDs(ids(append(page1, rest...)), wantIDs); d != "" {
				t.Errorf("a record inserted meanwhile disturbed paging: %s", d)
			}
		})
		t.Run("limit below 1", func(t *testing.T) {
			for _, limit := range []int{0, -1} {
				if _, _, err := s.List(ctx, "alice", limit, ""); !errors.Is(err, ErrInvalid) {
					t.Errorf("List(limit=%d) err = %v, want ErrInvalid", limit, err)
				}
			}
		})
	})

	t.Run("BadCursor", func(t *testing.T) {
		s := openStore(t)
		for i, id := range []string{"c1", "c2", "c3"} {
			if _, _, err := s.Insert(ctx, rec(id, "alice", id, at(i))); err != nil {
				t.Fatal(err)
			}
		}
		_, good, err := s.List(ctx, "alice", 1, "")
		if err != nil || good == "" {
			t.Fatalf("List: cursor %q, err %v", good, err)
		}
		raw, err := cursorEnc.DecodeString(good)
		if err != nil {
			t.Fatal(err)
		}
		reseal := func(b []byte) string { // a well-formed checksum over altered content
			body := append([]byte{}, b[:len(b)-4]...)
			return cursorEnc.EncodeToString(binary.BigEndian.AppendUint32(body, crc32.Checksum(body, cursorTable)))
		}
		wrongVersion := append([]byte{}, raw...)
		wrongVersion[0] = 2
		noID := append(append([]byte{}, raw[:9]...), 0, 0, 0, 0)
		tests := []struct{ name, cursor string }{
			{"garbage", "garbage!"},
			{"not base64", "%%%%"},
			{"std base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/"},
			{"padded", good + "=="},
			{"empty JSON", cursorEnc.EncodeToString([]byte("{}"))},
			{"too short", cursorEnc.EncodeToString([]byte{cursorV1, 0, 0})},
			{"truncated", good[:len(good)-3]},
			{"extended", good + "AA"},
			{"tampered char", tamper(good, len(good)/2)},
			{"tampered first char", tamper(good, 0)},
			{"tampered last char", tamper(good, len(good)-1)},
			{"wrong version", reseal(wrongVersion)},
			{"no id", reseal(noID)},
			{"huge", strings.Repeat("A", 100000)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				recs, next, err := s.List(ctx, "alice", 1, tt.cursor)
				if !errors.Is(err, ErrBadCursor) {
					t.Errorf("List(cursor=%.40q) = %d records, next %q, err %v; want ErrBadCursor", tt.cursor, len(recs), next, err)
				}
			})
		}
		if _, _, err := s.List(ctx, "alice", 1, good); err != nil {
			t.Errorf("List(good cursor) err = %v", err)
		}
	})

	t.Run("ConcurrentSameObject", func(t *testing.T) {
		const goroutines, perG = 50, 20
		tests := []struct {
			name  string
			newID bool // a retried callback may come with a fresh ID
		}{
			{"identical record", false},
			{"new ID each time", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := openStore(t)
				base := rec("same", "alice", "uploads/contended.jpg", at(0))
				base.Vars = map[string]string{"n": "1"}
				var (
					mu      sync.Mutex
					created int
					results []Record
					errs    []error
					wg      sync.WaitGroup
					start   = make(chan struct{})
				)
				for g := range goroutines {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						for i := range perG {
							r := base
							if tt.newID {
								r.ID = fmt.Sprintf("same-%02d-%02d", g, i)
							}
							got, c, err := s.Insert(ctx, r)
							mu.Lock()
							if err != nil {
								errs = append(errs, err)
							}
							if c {
								created++
							}
							results = append(results, got)
							mu.Unlock()
						}
					}()
				}
				close(start)
				wg.Wait()
				if len(errs) > 0 {
					t.Fatalf("%d of %d Inserts failed, first: %v", len(errs), goroutines*perG, errs[0])
				}
				if created != 1 {
					t.Errorf("created=true %d times, want 1", created)
				}
				winner := results[0]
				for i, r := range results {
					if d := diffRecord(r, winner); d != "" {
						t.Fatalf("result %d differs from result 0: %s", i, d)
					}
				}
				if winner.Key != base.Key || (!tt.newID && winner.ID != base.ID) {
					t.Errorf("winner = %+v, want key %s", winner, base.Key)
				}
				assertCount(t, s, "alice", 1)
			})
		}
	})

	t.Run("ConcurrentDistinct", func(t *testing.T) {
		s := openStore(t)
		const goroutines, perG = 50, 10
		var wg sync.WaitGroup
		errc := make(chan error, goroutines*perG)
		start := make(chan struct{})
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := range perG {
					id := fmt.Sprintf("d-%02d-%02d", g, i)
					r := rec(id, "alice", "uploads/"+id, at(g*perG+i))
					if _, created, err := s.Insert(ctx, r); err != nil || !created {
						errc <- fmt.Errorf("Insert %s: created=%v err=%w", id, created, err)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		got, _ := listAll(t, s, "alice", 200)
		if len(got) != goroutines*perG {
			t.Fatalf("listed %d records, want %d", len(got), goroutines*perG)
		}
		seen := map[string]bool{}
		for _, r := range got {
			seen[r.ID] = true
		}
		if len(seen) != goroutines*perG {
			t.Errorf("distinct IDs listed = %d, want %d", len(seen), goroutines*perG)
		}
	})

	t.Run("PingClose", func(t *testing.T) {
		s := open(t)
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping open store: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Ping(ctx); err == nil {
			t.Error("Ping after Close = nil, want an error")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		if _, _, err := s.Insert(ctx, rec("x", "alice", "x", at(0))); err == nil {
			t.Error("Insert after Close = nil error, want one")
		}
	})
}

// at is a fixed instant plus n milliseconds.
func at(n int) time.Time {
	return time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
}

func rec(id, user, key string, createdAt time.Time) Record {
	return Record{ID: id, User: user, Bucket: "examplebucket", Key: key, Size: 42,
		ContentType: "image/png", ETag: "etag-" + id, Filename: id + ".png", CreatedAt: createdAt}
}

// wantStored is r as a store gives it back.
func wantStored(r Record) Record {
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	if r.Vars == nil {
		r.Vars = map[string]string{}
	}
	return r
}

// diffRecord describes how got differs from want, "" when equal.
func diffRecord(got, want Record) string {
	var d []string
	field := func(name string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("ID", got.ID, want.ID)
	field("User", got.User, want.User)
	field("Bucket", got.Bucket, want.Bucket)
	field("Key", got.Key, want.Key)
	field("Size", got.Size, want.Size)
	field("ContentType", got.ContentType, want.ContentType)
	field("ETag", got.ETag, want.ETag)
	field("Filename", got.Filename, want.Filename)
	if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != want.CreatedAt.Location() {
		d = append(d, fmt.Sprintf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt))
	}
	if got.Vars == nil {
		d = append(d, "Vars = nil, want a non-nil map")
	}
	if fmt.Sprint(got.Vars) != fmt.Sprint(want.Vars) { // fmt sorts map keys
		d = append(d, fmt.Sprintf("Vars = %v, want %v", got.Vars, want.Vars))
	}
	return strings.Join(d, "; ")
}

func newestFirst(recs []Record) []Record {
	out := append([]Record{}, recs...)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID // byte order
	})
	return out
}

func ids(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func diffIDs(got, want []string) string {
	if strings.Join(got, ",") == strings.Join(want, ",") {
		return ""
	}
	return fmt.Sprintf("%v, want %v", got, want)
}

// listAll follows cursors from the first page to the end.
func listAll(t *testing.T, s Store, user string, limit int) ([]Record, int) {
	t.Helper()
	return listFrom(t, s, user, limit, "")
}

func listFrom(t *testing.T, s Store, user string, limit int, cursor string) ([]Record, int) {
	t.Helper()
	var all []Record
	pages := 0
	for {
		recs, next, err := s.List(context.Background(), user, limit, cursor)
		if err != nil {
			t.Fatalf("List(page %d): %v", pages+1, err)
		}
		pages++
		if len(recs) > limit {
			t.Fatalf("page %d has %d records, limit %d", pages, len(recs), limit)
		}
		all = append(all, recs...)
		if next == "" {
			return all, pages
		}
		if len(recs) == 0 {
			t.Fatalf("page %d empty but cursor %q", pages, next)
		}
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
}

func assertCount(t *testing.T, s Store, user string, want int) {
	t.Helper()
	got, _ := listAll(t, s, user, 100)
	if len(got) != want {
		t.Errorf("%s has %d records (%v), want %d", user, len(got), ids(got), want)
	}
}

// tamper changes the base64url character at i to another valid one.
func tamper(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
