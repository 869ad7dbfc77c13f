package ossemu

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
)

// defaultJPEGQuality is the emulator's choice when no image/quality is given.
const defaultJPEGQuality = 85

// imageContentTypes are the Content-Types of the output formats.
var imageContentTypes = map[string]string{
	"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "bmp": "image/bmp", "tiff": "image/tiff",
}

// serveImage answers a GetObject (or HEAD) with x-oss-process=image/...: the
// object's image processed by job, or its header as image/info JSON. The
// answer is a new file, so it has none of the object's ETag, CRC-64 or
// Content-Disposition; Range and conditional headers are not applied.
func (e *Emulator) serveImage(w http.ResponseWriter, r *http.Request, job *imageJob, f *os.File, meta objectMeta, overrides map[string]string) *ossError {
	var body []byte
	var contentType string
	var oerr *ossError
	if job.info {
		body, oerr = imageInfoJSON(f, meta.Size)
		contentType = "application/json"
	} else {
		body, contentType, oerr = e.processImage(r, job, f, meta.Size)
	}
	if oerr != nil {
		return oerr
	}
	h := w.Header()
	for k, v := range meta.Headers {
		if k != "Content-Disposition" && k != "Content-Encoding" {
			h.Set(k, v)
		}
	}
	h.Set("Content-Type", contentType)
	h.Set("Last-Modified", meta.LastModified.UTC().Format(http.TimeFormat))
	h.Set("X-Content-Type-Options", "nosniff")
	for k, v := range overrides {
		h.Set(k, v)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// infoValue is how image/info writes each value: {"value": "..."}.
type infoValue struct {
	Value string `json:"value"`
}

// imageInfoJSON is image/info's answer, read from the header only.
func imageInfoJSON(f *os.File, size int64) ([]byte, *ossError) {
	h, ok := readImageHeader(io.NewSectionReader(f, 0, size))
	if !ok {
		return nil, notAnImage()
	}
	if size > maxImageFileSize {
		return nil, checkImageLimits(size, h)
	}
	b, _ := json.Marshal(struct {
		FileSize    infoValue
		Format      infoValue
		ImageHeight infoValue
		ImageWidth  infoValue
	}{
		infoValue{strconv.FormatInt(size, 10)},
		infoValue{h.Format},
		infoValue{strconv.Itoa(h.Height)},
		infoValue{strconv.Itoa(h.Width)},
	}) // a struct of strings always encodes
	return b, nil
}

// processImage decodes f (within the limits), applies job's resizes and
// encodes the result. At most imageSlots images are in memory at once.
func (e *Emulator) processImage(r *http.Request, job *imageJob, f *os.File, size int64) ([]byte, string, *ossError) {
	select {
	case e.imageSlots <- struct{}{}:
		defer func() { <-e.imageSlots }()
	case <-r.Context().Done():
		return nil, "", internalError("The request ended while waiting to process the image.")
	}
	img, h, oerr := decodeSource(f, size)
	if oerr != nil {
		return nil, "", oerr
	}
	format := job.format
	if format == "" {
		format = h.Format
	}
	if _, ok := imageContentTypes[format]; !ok {
		return nil, "", notImplemented("Encoding images as " + format + " (add /format,png or /format,jpg)")
	}
	for _, rs := range job.resizes {
		b := img.Bounds()
		p, oerr := rs.plan(b.Dx(), b.Dy())
		if oerr != nil {
			return nil, "", oerr
		}
		img = rs.apply(img, p)
	}
	var buf bytes.Buffer
	if err := encodeImage(&buf, img, format, job.quality); err != nil {
		e.log.Error("ossemu: encoding a processed image failed", "format", format, "err", err)
		return nil, "", internalError("Encoding the processed image failed.")
	}
	return buf.Bytes(), imageContentTypes[format], nil
}

func encodeImage(w io.Writer, img image.Image, format string, quality int) error {
	switch format {
	case "jpg":
		if quality == 0 {
			quality = defaultJPEGQuality
		}
		return jpeg.Encode(w, onWhite(img), &jpeg.Options{Quality: quality})
	case "png":
		return png.Encode(w, img)
	case "gif":
		return gif.Encode(w, img, nil)
	case "bmp":
		return bmp.Encode(w, img)
	case "tiff":
		return tiff.Encode(w, img, nil)
	}
	return image.ErrFormat
}

// onWhite flattens transparency onto white, as JPEG has no alpha channel.
func onWhite(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}
