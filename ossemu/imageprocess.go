package ossemu

import (
	"fmt"
	"image/color"
	"net/http"
	"strconv"
	"strings"
)

// Limits on an x-oss-process value, which is attacker input like any query.
const (
	maxProcessLen     = 4096
	maxImageActions   = 10
	maxImageDimension = 16384 // OSS: w, h, l and s, and each side of a result
	// OSS: a resized image has at most 4096 x 4096 pixels.
	maxResultPixels = 4096 * 4096
)

// imageJob is a parsed x-oss-process=image/...: OSS applies its actions in
// the order written.
type imageJob struct {
	info    bool         // image/info: the source's header as JSON, nothing else
	resizes []resizeSpec // in order
	format  string       // output format, OSS's name; "" keeps the source's
	quality int          // JPEG quality 1..100; 0 is the emulator's default
}

// resizeSpec is one image/resize action; 0 is "not given" for the sizes.
type resizeSpec struct {
	mode          string // lfit (the default), mfit, fill, pad, fixed
	w, h, l, s, p int
	enlarge       bool // limit_0: may enlarge; the default, limit_1, may not
	color         color.RGBA
}

// imageActions OSS has that the emulator does not perform: asked for one, it
// says so instead of answering an unprocessed image.
var imageActions = map[string]bool{
	"watermark": true, "crop": true, "auto-orient": true, "circle": true, "indexcrop": true,
	"rounded-corners": true, "blur": true, "rotate": true, "bright": true, "contrast": true,
	"sharpen": true, "interlace": true, "average-hue": true, "blindwatermark": true,
}

// outputFormats are the values of image/format OSS takes, with the ones
// the emulator can encode. "jpeg" is accepted as "jpg".
var outputFormats = map[string]bool{
	"jpg": true, "png": true, "gif": true, "bmp": true, "tiff": true,
	"webp": false, "heic": false, "avif": false,
}

// parseProcess reads an x-oss-process value. Styles (style/name) are not
// emulated: there are none, so every one is NoSuchStyle, as in a bucket
// without styles.
func parseProcess(raw string) (*imageJob, *ossError) {
	if len(raw) > maxProcessLen {
		return nil, invalidArgument(fmt.Sprintf("The x-oss-process parameter is %d bytes long, more than %d.", len(raw), maxProcessLen))
	}
	kind, rest, _ := strings.Cut(raw, "/")
	switch kind {
	case "image":
	case "style":
		return nil, newError(http.StatusNotFound, CodeNoSuchStyle, "The style "+quote(rest)+" does not exist: the emulator has no image styles.")
	case "video", "doc", "audio":
		return nil, notImplemented("x-oss-process=" + kind + "/...")
	default:
		return nil, invalidArgument("The x-oss-process parameter " + quote(raw) + " is not image/<action>,... nor style/<name>.")
	}
	actions := strings.Split(rest, "/")
	if len(actions) > maxImageActions {
		return nil, invalidArgument(fmt.Sprintf("The x-oss-process parameter has %d actions, at most %d are allowed.", len(actions), maxImageActions))
	}
	job := &imageJob{}
	for _, a := range actions {
		name, params, _ := strings.Cut(a, ",")
		var args []string
		if params != "" {
			args = strings.Split(params, ",")
		}
		var oerr *ossError
		switch name {
		case "":
			return nil, imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000212", "An action of x-oss-process=image/ is empty.")
		case "resize":
			var rs resizeSpec
			if rs, oerr = parseResize(args); oerr == nil {
				job.resizes = append(job.resizes, rs)
			}
		case "format":
			job.format, oerr = parseFormat(args)
		case "quality":
			job.quality, oerr = parseQuality(args)
		case "info":
			if len(args) > 0 {
				oerr = invalidArgument("image/info takes no parameters.")
			}
			job.info = true
		default:
			if imageActions[name] {
				return nil, notImplemented("The image action " + quote(name))
			}
			return nil, imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000213", "The image action "+quote(name)+" does not exist.")
		}
		if oerr != nil {
			return nil, oerr
		}
	}
	if job.info && len(actions) > 1 {
		return nil, notImplemented("image/info together with other actions")
	}
	return job, nil
}

// splitParam cuts "w_256" into "w" and "256".
func splitParam(arg string) (string, string, *ossError) {
	k, v, ok := strings.Cut(arg, "_")
	if !ok || k == "" {
		return "", "", invalidArgument("The image parameter " + quote(arg) + " is not name_value.")
	}
	return k, v, nil
}

// parseIntIn reads a decimal integer in [lo, hi]; ok is false otherwise.
func parseIntIn(v string, lo, hi int) (int, bool) {
	if v == "" || len(v) > 6 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= lo && n <= hi
}

// resizeRanges are the integer parameters of image/resize, their ranges
// and the EC codes OSS documents for a value out of range.
var resizeRanges = map[string]struct {
	lo, hi int
	ec     string
}{
	"w": {1, maxImageDimension, "0040-00000312"},
	"h": {1, maxImageDimension, ""},
	"l": {1, maxImageDimension, "0040-00000314"},
	"s": {1, maxImageDimension, "0040-00000315"},
	"p": {1, 1000, "0040-00000317"},
}

func parseResize(args []string) (resizeSpec, *ossError) {
	rs := resizeSpec{mode: "lfit", color: color.RGBA{0xff, 0xff, 0xff, 0xff}}
	seen := map[string]bool{}
	for _, a := range args {
		k, v, oerr := splitParam(a)
		if oerr != nil {
			return rs, oerr
		}
		if seen[k] {
			return rs, invalidArgument("The resize parameter " + quote(k) + " is given more than once.")
		}
		seen[k] = true
		if r, ok := resizeRanges[k]; ok {
			n, ok := parseIntIn(v, r.lo, r.hi)
			if !ok {
				return rs, imageError(http.StatusBadRequest, CodeInvalidArgument, r.ec,
					fmt.Sprintf("The resize parameter %s must be an integer from %d to %d, not %s.", k, r.lo, r.hi, quote(v)))
			}
			switch k {
			case "w":
				rs.w = n
			case "h":
				rs.h = n
			case "l":
				rs.l = n
			case "s":
				rs.s = n
			case "p":
				rs.p = n
			}
			continue
		}
		switch k {
		case "m":
			switch v {
			case "lfit", "mfit", "fill", "pad", "fixed":
				rs.mode = v
			default:
				return rs, imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000311",
					"The resize mode m must be lfit, mfit, fill, pad or fixed, not "+quote(v)+".")
			}
		case "limit":
			if v != "0" && v != "1" {
				return rs, imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000319", "The resize parameter limit must be 0 or 1, not "+quote(v)+".")
			}
			rs.enlarge = v == "0"
		case "color":
			c, ok := parseHexColor(v)
			if !ok {
				return rs, invalidArgument("The resize parameter color must be six hex digits (RRGGBB), not " + quote(v) + ".")
			}
			rs.color = c
		default:
			return rs, invalidArgument("The resize parameter " + quote(k) + " is not one of m, w, h, l, s, p, limit, color.")
		}
	}
	if rs.w == 0 && rs.h == 0 && rs.l == 0 && rs.s == 0 && rs.p == 0 {
		return rs, newError(http.StatusBadRequest, CodeMissingArgument, "image/resize needs w, h, l, s or p.")
	}
	return rs, nil
}

func parseHexColor(v string) (color.RGBA, bool) {
	if len(v) != 6 {
		return color.RGBA{}, false
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return color.RGBA{}, false
	}
	return color.RGBA{uint8(n >> 16), uint8(n >> 8), uint8(n), 0xff}, true
}

func parseFormat(args []string) (string, *ossError) {
	if len(args) != 1 || args[0] == "" {
		return "", imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000207", "image/format takes one value, e.g. image/format,png.")
	}
	f := strings.ToLower(args[0])
	if f == "jpeg" {
		f = "jpg"
	}
	encodable, known := outputFormats[f]
	switch {
	case !known:
		return "", imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000206",
			"The image format "+quote(args[0])+" is not one of jpg, png, webp, bmp, gif, tiff, heic, avif.")
	case !encodable:
		return "", notImplemented("Encoding images as " + f)
	}
	return f, nil
}

// parseQuality reads q_N (relative to the source's quality) or Q_N
// (absolute). The emulator does not know a JPEG's original quality, so it
// takes both as the absolute quality.
func parseQuality(args []string) (int, *ossError) {
	if len(args) != 1 {
		return 0, newError(http.StatusBadRequest, CodeMissingArgument, "image/quality takes one parameter, q_N or Q_N.")
	}
	k, v, oerr := splitParam(args[0])
	if oerr != nil {
		return 0, oerr
	}
	if k != "q" && k != "Q" {
		return 0, invalidArgument("The quality parameter " + quote(k) + " is not q or Q.")
	}
	n, ok := parseIntIn(v, 1, 100)
	if !ok {
		return 0, invalidArgument("The quality " + k + " must be an integer from 1 to 100, not " + quote(v) + ".")
	}
	return n, nil
}
