package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// multipartStatusAnswer is GET /api/uploads/multipart/{id}.
type multipartStatusAnswer struct {
	UploadID  string
	State     string
	PartCount int
	Parts     []struct {
		PartNumber int
		Size       int64
	}
}

func (s multipartStatusAnswer) partNumbers() []int {
	var ns []int
	for _, p := range s.Parts {
		ns = append(ns, p.PartNumber)
	}
	slices.Sort(ns)
	return ns
}

// A big file goes up in parts; the page closes (reloads) while part 3 is
// still on its way, and choosing the same file again sends only part 3.
// The result is one object with the file's bytes and one record.
func TestBrowserMultipartResume(t *testing.T) {
	ctx := newBrowser(t, 60*time.Second)
	a := localApp(t, nil)
	const user = "resume-user"
	page := "/?multipartThreshold=" + strconv.Itoa(1<<20) // 24 MiB goes in 3 parts of 8 MiB

	data := make([]byte, 24<<20)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "holiday.mp4")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// Every part PUT the browser sends, by run.
	var mu sync.Mutex
	run := 1
	puts := map[int][]int{}
	err := chromedp.Listen(ctx, func(ev any) {
		req, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || req.Request.Method != "PUT" || !strings.HasPrefix(req.Request.URL, a.cfg.UploadURL) {
			return
		}
		u, err := url.Parse(req.Request.URL)
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(u.Query().Get("partNumber"))
		mu.Lock()
		puts[run] = append(puts[run], n)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	putsOf := func(r int) []int {
		mu.Lock()
		defer mu.Unlock()
		ns := slices.Clone(puts[r])
		slices.Sort(ns)
		return ns
	}

	// The browser cannot reach OSS for part 3, as on a connection that
	// drops: the page keeps retrying it while parts 1 and 2 land.
	block := func(patterns ...string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			// The "urls" form of the command, with * wildcards: cdproto
			// has only the newer urlPatterns, which this Chromium ignores.
			cmd := cdp.Command[map[string][]string, cdp.Empty]{Method: network.CommandSetBlockedURLs}
			_, err := cdp.Call(ctx, t, cmd, map[string][]string{"urls": append([]string{}, patterns...)})
			return err
		})
	}
	if err := chromedp.Do(ctx, block("*partNumber=3*"), signIn(a, page, user),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file})); err != nil {
		t.Fatalf("starting the upload: %v", err)
	}

	// ossgate.js remembers the session; OSS gets parts 1 and 2.
	uploadID, err := chromedp.Run(ctx, chromedp.Poll[string](
		`Object.keys(localStorage).filter(k => k.startsWith('ossgate.multipart:')).map(k => JSON.parse(localStorage[k]).uploadId)[0]`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no multipart session in localStorage: %v", err)
	}
	token := devTokenFor(t, a, user)
	var st multipartStatusAnswer
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code := apiGet(t, a, token, "/api/uploads/multipart/"+url.PathEscape(uploadID), &st); code != 200 {
			t.Fatalf("multipart status: %d", code)
		}
		if len(st.Parts) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if got := st.partNumbers(); !slices.Equal(got, []int{1, 2}) || st.PartCount != 3 || st.State != "open" {
		t.Fatalf("before the reload OSS holds parts %v of %d (%s), want [1 2] of 3, open", got, st.PartCount, st.State)
	}

	// Close the page mid-upload (reload it), and get the connection back.
	if err := chromedp.Do(ctx, chromedp.Navigate(a.URL()+page), chromedp.WaitEnabled(chromedp.CSS("#file"))); err != nil {
		t.Fatalf("reloading: %v", err)
	}
	mu.Lock()
	run = 2
	mu.Unlock()
	if err := chromedp.Do(ctx, block()); err != nil {
		t.Fatal(err)
	}
	if first := putsOf(1); len(first) < 3 || !slices.Equal(first[:3], []int{1, 2, 3}) || slices.ContainsFunc(first[3:], func(n int) bool { return n != 3 }) {
		t.Fatalf("first run PUT parts %v, want 1, 2 and (retried) 3", first)
	}
	resumable, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#resumable")))
	if err != nil || !strings.Contains(resumable, "holiday.mp4") {
		t.Fatalf("the reloaded page does not offer to resume holiday.mp4: %q %v", resumable, err)
	}
	apiGet(t, a, token, "/api/uploads/multipart/"+url.PathEscape(uploadID), &st)
	if got := st.partNumbers(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("after the reload OSS holds parts %v, want [1 2]", got)
	}

	status, text := uploadInPage(t, ctx, file)
	if status != "done" {
		t.Fatalf("resumed upload ended %q: %s", status, text)
	}
	if second := putsOf(2); !slices.Equal(second, []int{3}) {
		t.Fatalf("the resumed run PUT parts %v, want only [3]", second)
	}
	resumed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.upload-item').dataset.resumedParts`))
	if err != nil || resumed != "2" {
		t.Fatalf("the page says %q parts were resumed (%v), want 2", resumed, err)
	}
	left, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Object.keys(localStorage).filter(k => k.startsWith('ossgate.multipart:')).length`))
	if err != nil || left != 0 {
		t.Fatalf("%d sessions still remembered after completion (%v)", left, err)
	}

	list := recordsOf(t, a, token)
	if len(list) != 1 || list[0].Size != int64(len(data)) || list[0].Filename != "holiday.mp4" {
		t.Fatalf("API list %+v, want one record of holiday.mp4 with %d bytes", list, len(data))
	}
	if served := storedObject(t, a, list[0].Key); !bytes.Equal(served, data) {
		t.Fatalf("emulator served %d bytes, want the %d uploaded", len(served), len(data))
	}
	apiGet(t, a, token, "/api/uploads/multipart/"+url.PathEscape(uploadID), &st)
	if st.State != "completed" {
		t.Fatalf("session state %q after the upload, want completed", st.State)
	}
}
