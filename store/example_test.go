package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "ossgate-example")
	defer os.RemoveAll(dir)

	s, err := Open(ctx, filepath.Join(dir, "ossgate.db")) // or "postgres://user:pass@host/db"
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	r := Record{ID: "01JD", User: "alice", Bucket: "examplebucket", Key: "uploads/alice/cat.jpg", CreatedAt: at(0)}
	_, created, _ := s.Insert(ctx, r)
	_, again, _ := s.Insert(ctx, r) // OSS repeated the callback
	recs, next, _ := s.List(ctx, "alice", 50, "")
	fmt.Println(created, again, len(recs), next == "")
	// Output: true false 1 true
}
