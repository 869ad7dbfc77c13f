package ossemu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// maxKeyLen is OSS's limit on an object name, in bytes.
const maxKeyLen = 1023

// reservedPrefix is where the emulator serves its own files; no object may
// be stored under it, or GET could not tell the two apart.
const reservedPrefix = "_ossemu/"

// objectMeta is the sidecar stored beside each object's bytes.
type objectMeta struct {
	Key          string            `json:"key"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // MD5, upper-case hex, no quotes
	CRC64        uint64            `json:"crc64"`
	ContentType  string            `json:"contentType"`
	Headers      map[string]string `json:"headers,omitempty"` // Cache-Control, x-oss-meta-*, ...
	LastModified time.Time         `json:"lastModified"`
	ObjectType   string            `json:"objectType,omitempty"` // "" (Normal) or "Multipart"
}

// objectType is x-oss-object-type: Normal, or Multipart for a completed
// multipart upload.
func (m objectMeta) objectType() string {
	if m.ObjectType == "" {
		return "Normal"
	}
	return m.ObjectType
}

// errObjectExists: a commit that must not overwrite found the key taken.
var errObjectExists = errors.New("ossemu: the object already exists")

// store keeps objects on disk under dir. A file name is the SHA-256 of the
// key, so no key, whatever it holds, can name a path outside dir.
type store struct {
	objDir string
	tmpDir string
	mpDir  string // multipart uploads in progress, one directory each
	// mu makes the two renames of a commit look atomic to readers: a reader
	// never pairs new bytes with old metadata.
	mu sync.RWMutex
}

func newStore(dir string) (*store, error) {
	if dir == "" {
		return nil, errors.New("ossemu: Config.Dir is required")
	}
	s := &store{objDir: filepath.Join(dir, "objects"), tmpDir: filepath.Join(dir, "tmp"), mpDir: filepath.Join(dir, "multipart")}
	for _, d := range []string{s.objDir, s.tmpDir, s.mpDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("ossemu: %w", err)
		}
	}
	s.removeStaleTemp(time.Hour)
	return s, nil
}

// removeStaleTemp deletes uploads left half-written by a crashed process.
// Only old ones: another emulator may share the directory.
func (s *store) removeStaleTemp(age time.Duration) {
	entries, err := os.ReadDir(s.tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			_ = os.Remove(filepath.Join(s.tmpDir, e.Name()))
		}
	}
}

func (s *store) paths(key string) (data, meta string) {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(s.objDir, name), filepath.Join(s.objDir, name+".json")
}

// createTemp opens a new temporary file for an upload in progress.
func (s *store) createTemp() (*os.File, error) {
	return os.CreateTemp(s.tmpDir, "upload-*")
}

// commit moves a fully written temporary file into place as meta.Key. With
// noOverwrite it fails with errObjectExists if the key is taken; the check
// and the move happen under one lock, so of two such commits one wins.
func (s *store) commit(tmpPath string, meta objectMeta, noOverwrite bool) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	mf, err := os.CreateTemp(s.tmpDir, "meta-*")
	if err != nil {
		return err
	}
	_, werr := mf.Write(b)
	cerr := mf.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(mf.Name())
		return err
	}
	dataPath, metaPath := s.paths(meta.Key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if noOverwrite && s.existsLocked(meta.Key) {
		_ = os.Remove(mf.Name())
		return errObjectExists
	}
	if err := os.Rename(tmpPath, dataPath); err != nil {
		_ = os.Remove(mf.Name())
		return err
	}
	if err := os.Rename(mf.Name(), metaPath); err != nil {
		_ = os.Remove(mf.Name())
		return err
	}
	return nil
}

// open returns the object's bytes and metadata; fs.ErrNotExist if there is
// no such object.
func (s *store) open(key string) (*os.File, objectMeta, error) {
	dataPath, _ := s.paths(key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	meta, err := s.readMeta(key)
	if err != nil {
		return nil, meta, err
	}
	if meta.Key != key { // a SHA-256 collision, or a hand-edited file
		return nil, meta, fs.ErrNotExist
	}
	f, err := os.Open(dataPath)
	return f, meta, err
}

// exists reports whether key names a stored object.
func (s *store) exists(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.existsLocked(key)
}

func (s *store) existsLocked(key string) bool {
	meta, err := s.readMeta(key)
	return err == nil && meta.Key == key
}

func (s *store) readMeta(key string) (objectMeta, error) {
	_, metaPath := s.paths(key)
	var meta objectMeta
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return meta, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("ossemu: corrupt metadata for %q: %w", key, err)
	}
	return meta, nil
}

// remove deletes key; a missing key is no error, as DeleteObject of one
// succeeds. A reader that has the object open keeps reading it.
func (s *store) remove(key string) error {
	dataPath, metaPath := s.paths(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.existsLocked(key) {
		return nil
	}
	err := os.Remove(metaPath)
	if err := errors.Join(err, os.Remove(dataPath)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// list returns the metadata of every object whose key starts with prefix,
// sorted by key. It reads the directory each time: the emulator's buckets
// are small, and a second emulator sharing the directory stays in sync.
func (s *store) list(prefix string) ([]objectMeta, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	entries, err := os.ReadDir(s.objDir)
	if err != nil {
		return nil, err
	}
	var out []objectMeta
	for _, en := range entries {
		if !strings.HasSuffix(en.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.objDir, en.Name()))
		if err != nil {
			continue // removed meanwhile
		}
		var m objectMeta
		if json.Unmarshal(b, &m) != nil || !strings.HasPrefix(m.Key, prefix) {
			continue
		}
		if d, _ := s.paths(m.Key); filepath.Base(d)+".json" != en.Name() {
			continue // not where the key belongs: a hand-made file
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// validateKey refuses object names OSS refuses, and a little more: ".."
// anywhere, since ossgate never makes such keys and an emulator that let one
// through would hide the bug.
func validateKey(key string) *ossError {
	bad := func(why string) *ossError {
		return newError(http.StatusBadRequest, CodeInvalidObjectName, "The specified object name is not valid: "+why+".")
	}
	switch {
	case key == "":
		return bad("it is empty")
	case len(key) > maxKeyLen:
		return bad(fmt.Sprintf("it is %d bytes long, more than %d", len(key), maxKeyLen))
	case !utf8.ValidString(key):
		return bad("it is not valid UTF-8")
	case strings.HasPrefix(key, "/") || strings.HasPrefix(key, `\`):
		return bad("it starts with a slash")
	case strings.Contains(key, ".."):
		return bad(`it contains ".."`)
	case strings.HasPrefix(key, reservedPrefix):
		return bad("the prefix " + reservedPrefix + " is reserved by the emulator")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return bad("it contains a control character")
		}
	}
	return nil
}
