package static

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		t.Fatalf("embedded %s: %v", name, err)
	}
	if len(b) == 0 {
		t.Fatalf("embedded %s is empty", name)
	}
	return string(b)
}

func TestEmbeddedFiles(t *testing.T) {
	want := map[string]bool{"index.html": true, "ossgate.js": true, "uppy.js": true, "app.js": true, "style.css": true, "favicon.svg": true}
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("unexpected embedded file %s", e.Name())
		}
		delete(want, e.Name())
	}
	for name := range want {
		t.Errorf("missing embedded file %s", name)
	}
}

var (
	attrURL      = regexp.MustCompile(`(?i)\b(src|href|action|srcset)\s*=\s*["']?([^"'\s>]*)`)
	scriptTag    = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	inlineEvent  = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleAttr    = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	viewportMeta = regexp.MustCompile(`(?i)<meta\s+name=["']viewport["']\s+content=["'][^"']*width=device-width`)
)

func TestIndexHTML(t *testing.T) {
	page := read(t, "index.html")

	for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
		url := strings.ToLower(m[2])
		if strings.Contains(url, "//") || strings.HasPrefix(url, "data:") || strings.HasPrefix(url, "javascript:") {
			t.Errorf("%s=%q is not a local asset", m[1], m[2])
		}
	}
	if !viewportMeta.MatchString(page) {
		t.Error("no viewport meta with width=device-width")
	}

	scripts := scriptTag.FindAllStringSubmatch(page, -1)
	if len(scripts) == 0 {
		t.Fatal("no <script> tag")
	}
	for _, s := range scripts {
		if strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script body: %.60q", s[2])
		}
		if !strings.Contains(s[1], "src=") {
			t.Errorf("script without src: <script%s>", s[1])
		}
	}
	if !strings.Contains(page, `<script type="module" src="/app.js"></script>`) {
		t.Error(`index.html must load <script type="module" src="/app.js">`)
	}
	if !strings.Contains(page, `href="/style.css"`) {
		t.Error("index.html must link /style.css")
	}
	if inlineEvent.MatchString(page) {
		t.Error("inline event handler attribute (on...=) found")
	}
	if styleAttr.MatchString(page) || strings.Contains(strings.ToLower(page), "<style") {
		t.Error("inline style found")
	}

	// Hooks the browser test relies on.
	for _, id := range []string{`id="user"`, `id="signin"`, `id="file"`, `id="drop"`, `id="uploads"`, `id="status"`, `id="resumable"`} {
		if !strings.Contains(page, id) {
			t.Errorf("index.html lacks %s", id)
		}
	}
}

func TestNoRemoteResources(t *testing.T) {
	// Remote imports or url()s would break offline use and a strict CSP.
	remote := regexp.MustCompile(`(?i)(\bimport\b[^;'"]*['"]https?:|\burl\(\s*['"]?https?:|@import)`)
	for _, name := range []string{"app.js", "ossgate.js", "style.css"} {
		if m := remote.FindString(read(t, name)); m != "" {
			t.Errorf("%s loads a remote resource: %q", name, m)
		}
	}
}

func TestOssgateJSExports(t *testing.T) {
	src := read(t, "ossgate.js")
	for _, decl := range []string{
		"export async function requestUpload(",
		"export async function upload(",
		"export class OssgateError extends Error",
		"export async function listUploads(",
		"export async function devToken(",
		"export async function confirmUpload(",
		"export async function uploadMultipart(",
		"export function partSizeFor(",
		"export function fingerprint(",
		"export async function createMultipart(",
		"export async function signParts(",
		"export async function multipartStatus(",
		"export async function completeMultipart(",
		"export async function abortMultipart(",
		"export async function downloadURL(",
		"export async function remove(",
	} {
		if !strings.Contains(src, decl) {
			t.Errorf("ossgate.js lacks %q", decl)
		}
	}
	if regexp.MustCompile(`(?m)^\s*import\s`).MatchString(src) {
		t.Error("ossgate.js must not import anything")
	}
	if !strings.Contains(read(t, "app.js"), "from './ossgate.js'") {
		t.Error("app.js should import ./ossgate.js")
	}
}
