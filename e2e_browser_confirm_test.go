package main

import (
	"bytes"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// closedPortURL is an http URL on loopback where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// When OSS stores the object but cannot reach ossgate's callback, it
// answers the browser 203 CallbackFailed; ossgate.js then confirms the
// upload itself, and the page ends with one record.
func TestBrowserConfirmsFailedCallback(t *testing.T) {
	ctx := newBrowser(t, 60*time.Second)
	// The emulator calls back OSSGATE_PUBLIC_URL, where nothing listens.
	a := localApp(t, map[string]string{"OSSGATE_PUBLIC_URL": closedPortURL(t)})

	data := make([]byte, 200_000)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// What the emulator answered to the browser's upload POST, and which
	// API calls the page made.
	var mu sync.Mutex
	var uploadStatuses []int64
	var apiCalls []string
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(ev.Response.URL, a.cfg.UploadURL) && ev.Type != network.ResourceTypePreflight {
				uploadStatuses = append(uploadStatuses, ev.Response.Status)
			}
		case *network.EventRequestWillBeSent:
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(ev.Request.URL, a.URL()+"/api/uploads") {
				apiCalls = append(apiCalls, ev.Request.Method+" "+strings.TrimPrefix(ev.Request.URL, a.URL()))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, signIn(a, "/", "confirm-user")); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	status, text := uploadInPage(t, ctx, file)
	if status != "done" {
		t.Fatalf("upload ended %q: %s", status, text)
	}
	keyAttr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(".record"), "data-key"))
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	statuses, calls := append([]int64(nil), uploadStatuses...), append([]string(nil), apiCalls...)
	mu.Unlock()
	if len(statuses) != 1 || statuses[0] != 203 {
		t.Fatalf("emulator answered the upload %v, want one 203 (callback failed)", statuses)
	}
	confirms := 0
	for _, c := range calls {
		if c == "POST /api/uploads/confirm" {
			confirms++
		}
	}
	if confirms != 1 {
		t.Fatalf("the page called confirm %d times (calls %v), want 1", confirms, calls)
	}

	list := recordsOf(t, a, devTokenFor(t, a, "confirm-user"))
	if len(list) != 1 || list[0].Key != keyAttr.Value || list[0].Size != int64(len(data)) || list[0].Filename != "report.pdf" {
		t.Fatalf("API list %+v, want one record of %s with %d bytes", list, keyAttr.Value, len(data))
	}
	if served := storedObject(t, a, list[0].Key); !bytes.Equal(served, data) {
		t.Fatalf("emulator served %d bytes, want the %d uploaded", len(served), len(data))
	}
}
