package store

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"time"
)

// A cursor is the (CreatedAt, ID) of the last record of a page, so the next
// page starts strictly after it whatever is inserted meanwhile (keyset
// paging). Layout, then base64url without padding:
//
//	version (1 byte, cursorV1) | CreatedAt unix µs (8 bytes, big-endian) | ID | CRC-32C of all before (4 bytes)
//
// The checksum is not a secret: cursors are not credentials (List filters by
// user whatever the cursor says). It only makes a mangled or hand-edited
// cursor fail loudly with ErrBadCursor instead of silently skipping records.
const cursorV1 = 1

// maxCursorID bounds the ID a cursor may carry, so a huge query parameter is
// refused before any decoding work.
const maxCursorID = 512

var (
	cursorEnc   = base64.RawURLEncoding.Strict()
	cursorTable = crc32.MakeTable(crc32.Castagnoli)
)

func encodeCursor(createdAt time.Time, id string) string {
	b := make([]byte, 0, 1+8+len(id)+4)
	b = append(b, cursorV1)
	b = binary.BigEndian.AppendUint64(b, uint64(createdAt.UnixMicro()))
	b = append(b, id...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, cursorTable))
	return cursorEnc.EncodeToString(b)
}

// decodeCursor returns the position a cursor names, or ErrBadCursor.
func decodeCursor(s string) (time.Time, string, error) {
	if len(s) > cursorEnc.EncodedLen(1+8+maxCursorID+4) {
		return time.Time{}, "", ErrBadCursor
	}
	b, err := cursorEnc.DecodeString(s)
	if err != nil || len(b) < 1+8+1+4 || b[0] != cursorV1 {
		return time.Time{}, "", ErrBadCursor
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, cursorTable) != sum {
		return time.Time{}, "", ErrBadCursor
	}
	id := string(body[9:])
	if !storable(id) {
		return time.Time{}, "", ErrBadCursor
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(body[1:9]))).UTC(), id, nil
}
