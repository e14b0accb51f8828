//go:build cgo

package main

import (
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"net"
	"strings"
	"time"
)

// xshot reads what an X server shows, as a screenshot tool does: a
// connection of its own speaking the X11 protocol, with GetImage on the
// root window. The window benchmarks read the screen so because Fyne's
// Canvas.Capture reads the GL front buffer, which Mesa's software driver
// under Xvfb leaves blank; and because the X server's picture is what a
// person sees: a frame counts once its pixels reached the server.
type xshot struct {
	conn   net.Conn
	root   uint32
	width  int // the screen's size in pixels
	height int
}

// dialX connects to the X server of display (":N") through its Unix socket.
// Xvfb started without -auth lets local clients in without a cookie.
func dialX(display string) (*xshot, error) {
	n, _, _ := strings.Cut(strings.TrimPrefix(display, ":"), ".")
	conn, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+n, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to the X server %s: %w", display, err)
	}
	x, err := xsetup(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to the X server %s: %w", display, err)
	}
	return x, nil
}

// xsetup sends the connection setup (little-endian, protocol 11.0, no
// authorisation) and reads the root window and the screen's size from the
// reply.
func xsetup(conn net.Conn) (*xshot, error) {
	if _, err := conn.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		return nil, err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(conn, head); err != nil {
		return nil, err
	}
	more := make([]byte, int(binary.LittleEndian.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(conn, more); err != nil {
		return nil, err
	}
	if head[0] != 1 {
		reason := string(more[:min(int(head[1]), len(more))])
		return nil, fmt.Errorf("the server refused the connection: %q", reason)
	}
	if len(more) < 32 {
		return nil, fmt.Errorf("setup reply of %d bytes", len(more))
	}
	vendor := int(binary.LittleEndian.Uint16(more[16:]))
	screen := 32 + (vendor+3)/4*4 + 8*int(more[21])
	if more[20] == 0 || len(more) < screen+24 {
		return nil, fmt.Errorf("setup reply without a screen (%d bytes)", len(more))
	}
	return &xshot{conn: conn, root: binary.LittleEndian.Uint32(more[screen:]),
		width: int(binary.LittleEndian.Uint16(more[screen+20:])), height: int(binary.LittleEndian.Uint16(more[screen+22:]))}, nil
}

// image returns the pixels of r on the screen (the whole screen for an
// empty r), top row first, 4 bytes each (blue, green, red, unused at depth
// 24), in dst if it has the room, and the time the request was sent: the
// picture is the server's at some moment after it.
func (x *xshot) image(r image.Rectangle, dst []byte) ([]byte, time.Time, error) {
	if r.Empty() {
		r = image.Rect(0, 0, x.width, x.height)
	}
	r = r.Intersect(image.Rect(0, 0, x.width, x.height))
	req := make([]byte, 20)
	req[0] = 73 // GetImage
	req[1] = 2  // ZPixmap
	binary.LittleEndian.PutUint16(req[2:], 5)
	binary.LittleEndian.PutUint32(req[4:], x.root)
	binary.LittleEndian.PutUint16(req[8:], uint16(r.Min.X))
	binary.LittleEndian.PutUint16(req[10:], uint16(r.Min.Y))
	binary.LittleEndian.PutUint16(req[12:], uint16(r.Dx()))
	binary.LittleEndian.PutUint16(req[14:], uint16(r.Dy()))
	binary.LittleEndian.PutUint32(req[16:], 0xffffffff)
	at := time.Now()
	if _, err := x.conn.Write(req); err != nil {
		return nil, at, fmt.Errorf("reading the screen: %w", err)
	}
	head := make([]byte, 32)
	if _, err := io.ReadFull(x.conn, head); err != nil {
		return nil, at, fmt.Errorf("reading the screen: %w", err)
	}
	if head[0] != 1 {
		return nil, at, fmt.Errorf("reading the screen %v: X error %d", r, head[1])
	}
	n := int(binary.LittleEndian.Uint32(head[4:])) * 4
	pix := dst[:0]
	if cap(pix) < n {
		pix = make([]byte, n)
	}
	pix = pix[:n]
	if _, err := io.ReadFull(x.conn, pix); err != nil {
		return nil, at, fmt.Errorf("reading the screen: %w", err)
	}
	if len(pix) != r.Dx()*r.Dy()*4 {
		return nil, at, fmt.Errorf("reading the screen %v: %d bytes at depth %d, want 32 bits a pixel", r, len(pix), head[1])
	}
	return pix, at, nil
}

// Close ends the connection.
func (x *xshot) Close() error { return x.conn.Close() }
