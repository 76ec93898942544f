//go:build ignore

// Command appicon_gen draws build/appicon.png, Airlock's 1024×1024 icon: a white shield
// with an airlock hatch on a blue rounded square. Run it from the repository root with
// `go run build/appicon_gen.go`; Wails derives the Windows and macOS icons from the PNG.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const size = 1024

// inRoundedSquare reports whether (x, y) is inside the icon's background tile.
func inRoundedSquare(x, y float64) bool {
	const m, r = 64.0, 200.0
	cx := math.Max(m+r-x, math.Max(0, x-(size-m-r)))
	cy := math.Max(m+r-y, math.Max(0, y-(size-m-r)))
	if x < m || x > size-m || y < m || y > size-m {
		return false
	}
	return cx*cx+cy*cy <= r*r
}

// inShield reports whether (x, y) is inside the shield: straight sides that curve into
// a point at the bottom, and a top edge that dips toward the middle.
func inShield(x, y float64) bool {
	const cx, top, mid, bottom, hw = 512.0, 196.0, 540.0, 880.0, 292.0
	dx := math.Abs(x - cx)
	if dx > hw {
		return false
	}
	if y < top+36*(1-(dx/hw)*(dx/hw)) {
		return false
	}
	if y <= mid {
		return true
	}
	if y > bottom {
		return false
	}
	t := (y - mid) / (bottom - mid)
	return dx <= hw*math.Pow(math.Cos(t*math.Pi/2), 0.75)
}

type shade struct {
	c   color.NRGBA
	hit func(x, y float64) bool
}

func main() {
	blueTop := color.NRGBA{0x2f, 0x7d, 0xf6, 0xff}
	blueBottom := color.NRGBA{0x0d, 0x3b, 0x8c, 0xff}
	white := color.NRGBA{0xf7, 0xf9, 0xfc, 0xff}
	navy := color.NRGBA{0x0d, 0x3b, 0x8c, 0xff}
	const hx, hy = 512.0, 520.0
	ring := func(x, y float64) bool {
		d := math.Hypot(x-hx, y-hy)
		return d <= 176 && d >= 124
	}
	bar := func(x, y float64) bool { // the hatch's wheel: a cross inside the ring
		d := math.Hypot(x-hx, y-hy)
		return d < 124 && (math.Abs(x-hx) < 20 || math.Abs(y-hy) < 20)
	}
	hub := func(x, y float64) bool { return math.Hypot(x-hx, y-hy) <= 46 }
	layers := []shade{{white, inShield}, {navy, ring}, {navy, bar}, {navy, hub}}

	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4 // 4×4 samples per pixel for smooth edges
	for py := 0; py < size; py++ {
		bg := lerp(blueTop, blueBottom, float64(py)/size)
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := float64(px) + (float64(sx)+0.5)/ss
					y := float64(py) + (float64(sy)+0.5)/ss
					if !inRoundedSquare(x, y) {
						continue
					}
					c := bg
					for _, l := range layers {
						if l.hit(x, y) {
							c = l.c
						}
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / ss / ss)})
		}
	}
	f, err := os.Create("build/appicon.png")
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func lerp(a, b color.NRGBA, t float64) color.NRGBA {
	m := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t) }
	return color.NRGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 0xff}
}
