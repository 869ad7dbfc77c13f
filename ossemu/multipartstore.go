package ossemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// uploadMeta is a multipart upload in progress, kept as upload.json in the
// upload's directory; the parts lie beside it.
type uploadMeta struct {
	Key         string            `json:"key"`
	UploadID    string            `json:"uploadId"`
	Initiated   time.Time         `json:"initiated"`
	ContentType string            `json:"contentType"`
	Headers     map[string]string `json:"headers,omitempty"`
}

// partMeta is one uploaded part, kept as NNNNN.json beside its bytes, NNNNN.
type partMeta struct {
	PartNumber   int       `json:"partNumber"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"` // MD5, upper-case hex, no quotes
	CRC64        uint64    `json:"crc64"`
	LastModified time.Time `json:"lastModified"`
}

var errNoSuchUpload = errors.New("ossemu: no such upload")

// newUploadID is 32 upper-case hex characters, as OSS's upload ids look.
func newUploadID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// validUploadID accepts only ids newUploadID makes: an id names a directory,
// so nothing else may reach the file system.
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *store) uploadDir(id string) string { return filepath.Join(s.mpDir, id) }

func (s *store) partPaths(id string, n int) (data, meta string) {
	base := filepath.Join(s.uploadDir(id), fmt.Sprintf("%05d", n))
	return base, base + ".json"
}

// writeJSONFile writes v to path through a temporary file and a rename, so
// a reader sees the old or the new document, never half of one.
func (s *store) writeJSONFile(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.tmpDir, "meta-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return nil
}

func (s *store) createUpload(m uploadMeta) error {
	if err := os.Mkdir(s.uploadDir(m.UploadID), 0o755); err != nil {
		return err
	}
	return s.writeJSONFile(filepath.Join(s.uploadDir(m.UploadID), "upload.json"), m)
}

// loadUpload reads upload id; errNoSuchUpload if it is not in progress.
func (s *store) loadUpload(id string) (uploadMeta, error) {
	var m uploadMeta
	if !validUploadID(id) {
		return m, errNoSuchUpload
	}
	b, err := os.ReadFile(filepath.Join(s.uploadDir(id), "upload.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return m, errNoSuchUpload
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil || m.UploadID != id {
		return m, fmt.Errorf("ossemu: corrupt upload %s: %v", id, err)
	}
	return m, nil
}

// commitPart moves a received part into its upload, replacing any earlier
// part with that number, as OSS does.
func (s *store) commitPart(id string, p partMeta, tmpPath string) error {
	data, meta := s.partPaths(id, p.PartNumber)
	if err := os.Rename(tmpPath, data); err != nil {
		return err
	}
	return s.writeJSONFile(meta, p)
}

// listParts returns the parts of upload id by part number.
func (s *store) listParts(id string) ([]partMeta, error) {
	entries, err := os.ReadDir(s.uploadDir(id))
	if err != nil {
		return nil, err
	}
	var parts []partMeta
	for _, en := range entries {
		name, ok := strings.CutSuffix(en.Name(), ".json")
		if !ok || name == "upload" {
			continue
		}
		n, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.uploadDir(id), en.Name()))
		if err != nil {
			return nil, err
		}
		var p partMeta
		if err := json.Unmarshal(b, &p); err != nil || p.PartNumber != n {
			return nil, fmt.Errorf("ossemu: corrupt part %s/%d: %v", id, n, err)
		}
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
	return parts, nil
}

// listUploads returns every upload in progress, by key, then upload id.
func (s *store) listUploads() ([]uploadMeta, error) {
	entries, err := os.ReadDir(s.mpDir)
	if err != nil {
		return nil, err
	}
	var ups []uploadMeta
	for _, en := range entries {
		if m, err := s.loadUpload(en.Name()); err == nil {
			ups = append(ups, m)
		}
	}
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].Key != ups[j].Key {
			return ups[i].Key < ups[j].Key
		}
		return ups[i].UploadID < ups[j].UploadID
	})
	return ups, nil
}

func (s *store) removeUpload(id string) error {
	if !validUploadID(id) {
		return errNoSuchUpload
	}
	return os.RemoveAll(s.uploadDir(id))
}
