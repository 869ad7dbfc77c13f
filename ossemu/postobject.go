package ossemu

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
)

// Limits on the form fields that precede the file. They bound the memory a
// request can make the emulator hold before it is even authenticated.
const (
	maxFormFields  = 64
	maxFieldSize   = 64 << 10 // one field's value; a policy fits well inside
	maxPreDataSize = 1 << 20  // every byte before the file part, headers included
	// multipart hands the file over in 4 KiB reads; buffering the disk
	// writes turns them into few large write calls.
	fileWriteBuffer = 1 << 20
)

// crcTable is CRC-64/ECMA-182 as OSS uses it (x-oss-hash-crc64ecma).
var crcTable = crc64.MakeTable(crc64.ECMA)

// form holds the non-file fields of a PostObject request. OSS matches field
// names case-insensitively, so they are kept lowercased.
type form map[string]string

var errPreDataTooLarge = errors.New("form fields before the file are too large")

// preDataLimiter caps the bytes read from the body until the file part is
// reached; from then on the file's own limits apply.
type preDataLimiter struct {
	r    io.Reader
	left int64
	off  bool
}

func (l *preDataLimiter) Read(p []byte) (int, error) {
	if l.off {
		return l.r.Read(p)
	}
	if l.left <= 0 {
		return 0, errPreDataTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// errWriter remembers a write error, so a failing disk (a 500) is told apart
// from a failing upload (a 400).
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// postObject handles PostObject: read the fields, authenticate, check the
// policy, stream the file to disk, commit, then answer or call back.
func (e *Emulator) postObject(w http.ResponseWriter, r *http.Request, reqID string) *ossError {
	lim := &preDataLimiter{r: r.Body, left: maxPreDataSize}
	r.Body = struct {
		io.Reader
		io.Closer
	}{lim, r.Body}
	mr, err := r.MultipartReader()
	if err != nil {
		return malformedPOST()
	}
	f, file, oerr := readFields(mr, lim)
	if oerr != nil {
		return oerr
	}
	lim.off = true

	if _, oerr := e.verifySignature(f); oerr != nil {
		return oerr
	}
	pol, err := decodePolicy(f["policy"])
	if err != nil {
		return policyError(err)
	}
	if pol.expired(e.now()) {
		return accessDenied("Invalid according to Policy: Policy expired.")
	}
	if oerr := pol.checkFields(f, e.cfg.Bucket); oerr != nil {
		return oerr
	}

	key, ok := f["key"]
	if !ok {
		return invalidArgument("The key field is missing from the form.")
	}
	// As in S3 and OSS, ${filename} in the key is the uploaded file's name;
	// the policy saw the key as sent.
	key = strings.ReplaceAll(key, "${filename}", file.FileName())
	if oerr := validateKey(key); oerr != nil {
		return oerr
	}
	var cb *callbackParam
	if s := f["callback"]; s != "" {
		if cb, oerr = parseCallbackParam(s); oerr != nil {
			return oerr
		}
	}
	custom := map[string]string{}
	if s := f["callback-var"]; s != "" {
		if custom, oerr = parseCallbackVar(s); oerr != nil {
			return oerr
		}
	}
	for k, v := range f {
		if strings.HasPrefix(k, "x:") {
			custom[k] = v // a form field wins over callback-var
		}
	}
	forbidOverwrite, oerr := parseForbidOverwrite(f["x-oss-forbid-overwrite"])
	if oerr != nil {
		return oerr
	}
	// Refused before the file is read when the key is already taken; the
	// commit checks again, atomically, for a race with another upload.
	if forbidOverwrite && e.store.exists(key) {
		return fileAlreadyExists()
	}
	wantMD5, hasMD5 := f["content-md5"]
	if hasMD5 {
		if oerr := checkContentMD5(wantMD5); oerr != nil {
			return oerr
		}
	}

	lo, hi, hasRange := pol.sizeRange()
	if !hasRange {
		lo, hi = 0, e.maxObjectSize
	}
	obj, oerr := e.receiveFile(file, lo, hi, key, malformedPOST)
	if oerr != nil {
		return oerr
	}
	defer obj.discard()
	if hasMD5 && wantMD5 != obj.contentMD5 {
		return md5Mismatch()
	}
	var img *imageInfo
	if cb != nil && needsImageInfo(cb.Body) {
		img = readImageInfo(obj.file)
	}
	meta := objectMeta{
		Key:          key,
		Size:         obj.size,
		ETag:         obj.etag,
		CRC64:        obj.crc64,
		ContentType:  contentTypeFor(f, key),
		Headers:      storedHeaders(f),
		LastModified: e.now().UTC(),
	}
	if oerr := e.commitObject(obj, meta, forbidOverwrite); oerr != nil {
		return oerr
	}

	obj.setHeaders(w.Header())
	if cb != nil {
		return e.relayCallback(w, r, cb, &callbackVars{
			Operation: "PostObject", Bucket: e.cfg.Bucket, Object: key, ETag: obj.etag, MimeType: meta.ContentType,
			Size: obj.size, CRC64: obj.crc64, ContentMD5: obj.contentMD5,
			ClientIP: clientIP(r), ReqID: reqID, Image: img, Custom: custom,
		})
	}
	e.writePostSuccess(w, r, f["success_action_status"], key, obj.etag)
	return nil
}

// readFields reads the form up to the file part, which it returns unread.
// Fields after the file are never read: OSS ignores them.
func readFields(mr *multipart.Reader, lim *preDataLimiter) (form, *multipart.Part, *ossError) {
	f := form{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil, invalidArgument("The form has no file field; the file must be the last field of the form.")
		}
		if err != nil {
			return nil, nil, readError(err, lim)
		}
		name := strings.ToLower(part.FormName())
		if name == "" {
			continue // not a form-data part
		}
		if name == "file" {
			return f, part, nil
		}
		if len(f) >= maxFormFields {
			return nil, nil, invalidArgument(fmt.Sprintf("The form has more than %d fields.", maxFormFields))
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
		if err != nil {
			return nil, nil, readError(err, lim)
		}
		if len(v) > maxFieldSize {
			return nil, nil, invalidArgument(fmt.Sprintf("The form field %s is longer than %d bytes.", quote(name), maxFieldSize))
		}
		// One value per name, so the policy checks the value that is used.
		if _, dup := f[name]; dup {
			return nil, nil, invalidArgument("The form field " + quote(name) + " appears more than once.")
		}
		f[name] = string(v)
	}
}

func readError(err error, lim *preDataLimiter) *ossError {
	if errors.Is(err, errPreDataTooLarge) || lim.left <= 0 {
		return invalidArgument(fmt.Sprintf("The form fields before the file are larger than %d bytes.", maxPreDataSize))
	}
	return malformedPOST()
}

func malformedPOST() *ossError {
	return newError(http.StatusBadRequest, CodeMalformedPOSTRequest, "The body of your POST request is not well-formed multipart/form-data.")
}

// received is an uploaded file on disk, not yet committed.
type received struct {
	file       *os.File
	size       int64
	etag       string // MD5, upper-case hex
	contentMD5 string // MD5, base64
	crc64      uint64
	committed  bool
}

// receiveFile streams an upload (a PostObject file part, a PUT body) to a
// temporary file, hashing as it goes. It stops reading as soon as the size
// passes hi (or MaxObjectSize, if smaller): a too large upload costs at most
// that much disk and time. broken is the answer when src fails mid-way.
func (e *Emulator) receiveFile(src io.Reader, lo, hi int64, key string, broken func() *ossError) (*received, *ossError) {
	limit := min(hi, e.maxObjectSize)
	tmp, err := e.store.createTemp()
	if err != nil {
		e.log.Error("ossemu: creating temporary file failed", "err", err)
		return nil, internalError("Storing the object failed.")
	}
	obj := &received{file: tmp}
	md5h, crc := md5.New(), crc64.New(crcTable)
	dst := &errWriter{w: tmp}
	buf := bufio.NewWriterSize(dst, fileWriteBuffer)
	n, err := io.Copy(io.MultiWriter(buf, md5h, crc), &io.LimitedReader{R: src, N: limit + 1})
	if err == nil && n <= limit {
		_ = buf.Flush() // a failure shows in dst.err
	}
	switch {
	case dst.err != nil:
		obj.discard()
		e.log.Error("ossemu: writing temporary file failed", "key", key, "err", dst.err)
		return nil, internalError("Storing the object failed.")
	case err != nil:
		obj.discard()
		return nil, broken() // the body ended or broke mid-file
	case n > limit && limit == e.maxObjectSize:
		obj.discard()
		return nil, e.objectTooLarge()
	case n > limit:
		obj.discard()
		return nil, newError(http.StatusBadRequest, CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size.")
	case n < lo:
		obj.discard()
		return nil, newError(http.StatusBadRequest, CodeEntityTooSmall, "Your proposed upload is smaller than the minimum allowed size.")
	}
	sum := md5h.Sum(nil)
	obj.size = n
	obj.etag = strings.ToUpper(hex.EncodeToString(sum))
	obj.contentMD5 = base64.StdEncoding.EncodeToString(sum)
	obj.crc64 = crc.Sum64()
	return obj, nil
}

func (e *Emulator) objectTooLarge() *ossError {
	return newError(http.StatusBadRequest, CodeEntityTooLarge, fmt.Sprintf("Your proposed upload exceeds the maximum allowed object size of %d bytes.", e.maxObjectSize))
}

// setHeaders sets the headers OSS answers a stored upload with.
func (o *received) setHeaders(h http.Header) {
	h.Set("ETag", `"`+o.etag+`"`)
	h.Set("Content-MD5", o.contentMD5)
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(o.crc64, 10))
}

// checkContentMD5 refuses, before any byte is read, a Content-MD5 that is no
// base64 MD5.
func checkContentMD5(v string) *ossError {
	if b, err := base64.StdEncoding.DecodeString(v); err != nil || len(b) != md5.Size {
		return newError(http.StatusBadRequest, CodeInvalidDigest, "The Content-MD5 you specified is not valid.")
	}
	return nil
}

func md5Mismatch() *ossError {
	return newError(http.StatusBadRequest, CodeInvalidDigest, "The Content-MD5 you specified did not match what we received.")
}

func (o *received) commit(s *store, meta objectMeta, noOverwrite bool) error {
	if err := o.file.Close(); err != nil {
		return err
	}
	if err := s.commit(o.file.Name(), meta, noOverwrite); err != nil {
		return err
	}
	o.committed = true
	return nil
}

// discard removes the temporary file unless it was committed; safe to call
// more than once.
func (o *received) discard() {
	_ = o.file.Close()
	if !o.committed {
		_ = os.Remove(o.file.Name())
	}
}

// contentTypeFor is the stored Content-Type: the form's field, else one
// guessed from the key's extension, else application/octet-stream.
func contentTypeFor(f form, key string) string {
	if ct := f["content-type"]; ct != "" {
		return ct
	}
	if ct := mime.TypeByExtension(path.Ext(key)); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			return mt // "text/html", not "text/html; charset=utf-8"
		}
	}
	return "application/octet-stream"
}

// storedHeaders are the form fields OSS keeps with the object and sends back
// on GET.
func storedHeaders(f form) map[string]string {
	h := map[string]string{}
	for k, v := range f {
		switch {
		case k == "cache-control", k == "content-disposition", k == "content-encoding", k == "expires",
			strings.HasPrefix(k, "x-oss-meta-"):
			h[http.CanonicalHeaderKey(k)] = v
		}
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// writePostSuccess answers a PostObject without callback as OSS does: 200 or
// 204 with no body, or 201 with a PostResponse document; anything else is 204.
func (e *Emulator) writePostSuccess(w http.ResponseWriter, r *http.Request, status, key, etag string) {
	switch status {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		var b bytes.Buffer
		b.WriteString(xml.Header)
		b.WriteString("<PostResponse>\n")
		writeXMLElem(&b, "Bucket", e.cfg.Bucket)
		writeXMLElem(&b, "Location", e.objectURL(r, key))
		writeXMLElem(&b, "Key", key)
		writeXMLElem(&b, "ETag", `"`+etag+`"`)
		b.WriteString("</PostResponse>\n")
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b.Bytes())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// objectURL is where GET serves key.
func (e *Emulator) objectURL(r *http.Request, key string) string {
	return e.baseURL(r) + (&url.URL{Path: e.objectPath(key)}).EscapedPath()
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func quote(s string) string { return strconv.Quote(s) }
