// Package static holds ossgate's browser assets, embedded in the binary: the
// demo page (index.html, app.js, style.css, favicon.svg) and ossgate.js, the
// dependency-free ES module that uploads files straight to OSS.
//
// The web package serves GET / as index.html and every other file at
// /<name>. The page loads nothing from other origins and has no inline
// script or style, so it works under a strict Content-Security-Policy
// (script-src 'self'; style-src 'self'; connect-src must also allow the
// upload URL, since the browser posts there directly).
package static

import "embed"

// FS holds the assets at its root: index.html, ossgate.js (and uppy.js, the
// Uppy adapter it re-exports), app.js, style.css and favicon.svg. Tests
// (*.mjs, *_test.go) are not embedded.
//
//go:embed index.html ossgate.js uppy.js app.js style.css favicon.svg
var FS embed.FS
