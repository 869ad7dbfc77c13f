package ossemu

import (
	"fmt"
	"image"
	"net/http"

	"golang.org/x/image/draw"
)

// resizePlan is what one image/resize does to a source of a given size.
type resizePlan struct {
	scaledW, scaledH int  // the whole source scaled to this
	outW, outH       int  // the result: the scaled image, cropped (fill) or padded (pad)
	keep             bool // limit_1 and the result would be larger: the source as it is
}

// ratio is round(a*num/den) in integers, at least 1.
func ratio(a, num, den int) int {
	n := int((2*int64(a)*int64(num) + int64(den)) / (2 * int64(den)))
	return max(n, 1)
}

// box is the rectangle OSS fits the image to: w and h if given (l and s are
// then ignored), else l and s (the image's longer and shorter side), else
// the source's size; p scales it. A single side makes the other follow the
// source's ratio, or, for fill and pad, a square.
func (rs resizeSpec) box(srcW, srcH int) (int, int) {
	square := rs.mode == "fill" || rs.mode == "pad"
	landscape := srcW >= srcH
	bw, bh := srcW, srcH
	switch {
	case rs.w > 0 && rs.h > 0:
		bw, bh = rs.w, rs.h
	case rs.w > 0 && square:
		bw, bh = rs.w, rs.w
	case rs.w > 0:
		bw, bh = rs.w, ratio(srcH, rs.w, srcW)
	case rs.h > 0 && square:
		bw, bh = rs.h, rs.h
	case rs.h > 0:
		bw, bh = ratio(srcW, rs.h, srcH), rs.h
	case rs.l > 0 && rs.s > 0 && landscape:
		bw, bh = rs.l, rs.s
	case rs.l > 0 && rs.s > 0:
		bw, bh = rs.s, rs.l
	case rs.l > 0 && square:
		bw, bh = rs.l, rs.l
	case rs.l > 0 && landscape:
		bw, bh = rs.l, ratio(srcH, rs.l, srcW)
	case rs.l > 0:
		bw, bh = ratio(srcW, rs.l, srcH), rs.l
	case rs.s > 0 && square:
		bw, bh = rs.s, rs.s
	case rs.s > 0 && landscape:
		bw, bh = ratio(srcW, rs.s, srcH), rs.s
	case rs.s > 0:
		bw, bh = rs.s, ratio(srcH, rs.s, srcW)
	}
	if rs.p > 0 {
		bw, bh = ratio(bw, rs.p, 100), ratio(bh, rs.p, 100)
	}
	return bw, bh
}

// plan computes the sizes of a resize of a srcW x srcH image and checks
// the result against OSS's limits.
func (rs resizeSpec) plan(srcW, srcH int) (resizePlan, *ossError) {
	bw, bh := rs.box(srcW, srcH)
	var p resizePlan
	// Whether the width binds when the image must fit inside the box:
	// bw/srcW <= bh/srcH.
	widthBinds := int64(bw)*int64(srcH) <= int64(bh)*int64(srcW)
	switch rs.mode {
	case "fixed":
		p.scaledW, p.scaledH = bw, bh
	case "lfit", "pad":
		if widthBinds {
			p.scaledW, p.scaledH = bw, ratio(srcH, bw, srcW)
		} else {
			p.scaledW, p.scaledH = ratio(srcW, bh, srcH), bh
		}
	case "mfit", "fill":
		if widthBinds {
			p.scaledW, p.scaledH = ratio(srcW, bh, srcH), bh
		} else {
			p.scaledW, p.scaledH = bw, ratio(srcH, bw, srcW)
		}
	}
	p.outW, p.outH = p.scaledW, p.scaledH
	if rs.mode == "fill" || rs.mode == "pad" {
		p.outW, p.outH = bw, bh
	}
	if !rs.enlarge && (p.scaledW > srcW || p.scaledH > srcH) {
		return resizePlan{scaledW: srcW, scaledH: srcH, outW: srcW, outH: srcH, keep: true}, nil
	}
	if p.outW > maxImageDimension || p.outH > maxImageDimension || int64(p.outW)*int64(p.outH) > maxResultPixels {
		return p, imageError(http.StatusBadRequest, CodeInvalidArgument, "0040-00000007",
			fmt.Sprintf("The resized image would be %dx%d px; each side may be at most %d and the whole at most 4096x4096 px.", p.outW, p.outH, maxImageDimension))
	}
	return p, nil
}

// maxKernelTmp bounds the buffer a kernel scaler takes: 32 bytes for each
// destination column times source row.
const maxKernelTmp = 64 << 20

// scaler is Catmull-Rom, good for thumbnails, unless its buffer for a dw
// wide result of sh source rows would pass maxKernelTmp; then it is
// ApproxBiLinear, which needs none.
func scaler(dw, sh int) draw.Scaler {
	if int64(dw)*int64(sh)*32 <= maxKernelTmp {
		return draw.CatmullRom
	}
	return draw.ApproxBiLinear
}

// apply draws src resized by p. Fill scales only the part of src that stays
// after the centre crop.
func (rs resizeSpec) apply(src image.Image, p resizePlan) image.Image {
	if p.keep {
		return src
	}
	sb := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, p.outW, p.outH))
	switch rs.mode {
	case "pad":
		draw.Draw(dst, dst.Bounds(), image.NewUniform(rs.color), image.Point{}, draw.Src)
		x0, y0 := (p.outW-p.scaledW)/2, (p.outH-p.scaledH)/2
		scaler(p.scaledW, sb.Dy()).Scale(dst, image.Rect(x0, y0, x0+p.scaledW, y0+p.scaledH), src, sb, draw.Over, nil)
	case "fill":
		visW := min(ratio(sb.Dx(), p.outW, p.scaledW), sb.Dx())
		visH := min(ratio(sb.Dy(), p.outH, p.scaledH), sb.Dy())
		x0, y0 := sb.Min.X+(sb.Dx()-visW)/2, sb.Min.Y+(sb.Dy()-visH)/2
		scaler(p.outW, visH).Scale(dst, dst.Bounds(), src, image.Rect(x0, y0, x0+visW, y0+visH), draw.Src, nil)
	default:
		scaler(p.outW, sb.Dy()).Scale(dst, dst.Bounds(), src, sb, draw.Src, nil)
	}
	return dst
}
