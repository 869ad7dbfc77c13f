package ossemu

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // the source formats OSS processes and reports in ${imageInfo.*}
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Limits on a source image, checked from its size and header before a pixel
// is decoded, so that a small file that claims a huge image (a decompression
// bomb) costs nothing.
const (
	maxImageFileSize = 20 << 20 // OSS: a source image of at most 20 MB
	maxImageSide     = 30000    // OSS: width and height at most 30,000 px
	// OSS allows 250 million pixels; the emulator decodes into memory, so it
	// allows what 50 megapixels of RGBA take, 200 MB: a 16-bit PNG gets half
	// as many pixels.
	maxImageDecodeBytes = 50_000_000 * 4
)

// imageSlots bounds how many images the emulator decodes at once, so that
// concurrent requests cannot multiply the decode memory bound.
const imageSlots = 2

// imageHeader is what an image's header says, read without decoding pixels.
type imageHeader struct {
	Width, Height int
	Format        string // OSS's name: "jpg", "png", "gif", "webp", "bmp", "tiff"
	model         color.Model
}

// ossFormatName turns an image package's format name into OSS's.
func ossFormatName(format string) string {
	if format == "jpeg" {
		return "jpg"
	}
	return format
}

// readImageHeader decodes only the header of r's image; ok is false when r
// holds no image in a format the emulator knows.
func readImageHeader(r io.Reader) (imageHeader, bool) {
	cfg, format, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return imageHeader{}, false
	}
	return imageHeader{Width: cfg.Width, Height: cfg.Height, Format: ossFormatName(format), model: cfg.ColorModel}, true
}

// readImageInfo is the ${imageInfo.*} of an uploaded file: its header only;
// nil when it is no image, as OSS then leaves the variables empty.
func readImageInfo(f *os.File) *imageInfo {
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	h, ok := readImageHeader(io.NewSectionReader(f, 0, st.Size()))
	if !ok {
		return nil
	}
	return &imageInfo{Width: h.Width, Height: h.Height, Format: h.Format}
}

// bytesPerPixel is how much memory a decoded pixel of model takes, roughly.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// checkImageLimits refuses a source the emulator will not decode.
func checkImageLimits(size int64, h imageHeader) *ossError {
	if size > maxImageFileSize {
		return newError(http.StatusBadRequest, CodeImageTooLarge,
			fmt.Sprintf("The source image is %d bytes; image processing takes at most %d (20 MB).", size, maxImageFileSize))
	}
	if h.Width > maxImageSide || h.Height > maxImageSide {
		return imageError(http.StatusBadRequest, CodeImageTooLarge, "0040-00000009",
			fmt.Sprintf("The source image is %dx%d px; width and height may be at most %d.", h.Width, h.Height, maxImageSide))
	}
	if int64(h.Width)*int64(h.Height)*bytesPerPixel(h.model) > maxImageDecodeBytes {
		return imageError(http.StatusBadRequest, CodeImageTooLarge, "0040-00000009",
			fmt.Sprintf("The source image is %dx%d px, more than the emulator decodes (50 megapixels of 8-bit RGBA).", h.Width, h.Height))
	}
	return nil
}

// notAnImage is OSS's answer when the object is no image it can process.
func notAnImage() *ossError {
	return imageError(http.StatusBadRequest, CodeBadRequest, "0040-00000005",
		"The source object is not an image in a supported format (JPG, PNG, GIF, WebP, BMP, TIFF).")
}

// imageError is an image-processing error with OSS's EC code (its detailed
// error code, sent as <EC> in the error document); ec may be "".
func imageError(status int, code, ec, msg string) *ossError {
	e := newError(status, code, msg)
	if ec != "" {
		e.Extra = [][2]string{{"EC", ec}}
	}
	return e
}

// decodeSource checks src's header against the limits, then decodes it.
// Only GIF's first frame is decoded.
func decodeSource(src io.ReaderAt, size int64) (image.Image, imageHeader, *ossError) {
	h, ok := readImageHeader(io.NewSectionReader(src, 0, size))
	if !ok {
		return nil, h, notAnImage()
	}
	if oerr := checkImageLimits(size, h); oerr != nil {
		return nil, h, oerr
	}
	img, _, err := image.Decode(bufio.NewReader(io.NewSectionReader(src, 0, size)))
	if err != nil {
		return nil, h, imageError(http.StatusBadRequest, CodeBadRequest, "0040-00000005", "The source image could not be decoded: "+err.Error()+".")
	}
	if b := img.Bounds(); b.Dx() > h.Width || b.Dy() > h.Height {
		// Larger than its header said (a GIF's first frame may be smaller):
		// refuse rather than trust sizes the limits did not check.
		return nil, h, imageError(http.StatusBadRequest, CodeBadRequest, "0040-00000005", "The source image's pixels do not match its header.")
	}
	return img, h, nil
}
