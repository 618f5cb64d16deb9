package debugtest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// bombChunk is the unit GzipZeros repeats.
const bombChunk = 1 << 20

// GzipZeros writes a valid gzip stream of n zeros (n a positive multiple
// of 1 MiB): a gzip bomb, about a thousand times smaller than what it
// decompresses to. It streams, and costs far less than compressing n
// bytes: the deflate blocks that encode a MiB of zeros after zeros are
// made once and repeated (they refer only to the zeros before them).
func GzipZeros(w io.Writer, n int64) error {
	if n <= 0 || n%bombChunk != 0 {
		return fmt.Errorf("GzipZeros: %d is not a positive multiple of %d", n, bombChunk)
	}
	zeros := make([]byte, bombChunk)
	var z bytes.Buffer
	fw, err := flate.NewWriter(&z, flate.BestCompression)
	if err != nil {
		return err
	}
	// Each Flush ends the blocks on a byte boundary, with no final block,
	// so the second MiB's bytes can follow any run of zeros.
	if _, err := fw.Write(zeros); err != nil {
		return err
	}
	if err := fw.Flush(); err != nil {
		return err
	}
	first := bytes.Clone(z.Bytes())
	z.Reset()
	if _, err := fw.Write(zeros); err != nil {
		return err
	}
	if err := fw.Flush(); err != nil {
		return err
	}
	next := z.Bytes()

	header := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff} // deflate, no name, no mtime, unknown OS
	if _, err := w.Write(header); err != nil {
		return err
	}
	if _, err := w.Write(first); err != nil {
		return err
	}
	crc := crc32.Update(0, crc32.IEEETable, zeros)
	for i := int64(1); i < n/bombChunk; i++ {
		if _, err := w.Write(next); err != nil {
			return err
		}
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	// An empty final block with fixed codes, then CRC-32 and size.
	trailer := []byte{0x03, 0x00}
	trailer = binary.LittleEndian.AppendUint32(trailer, crc)
	trailer = binary.LittleEndian.AppendUint32(trailer, uint32(n))
	_, err = w.Write(trailer)
	return err
}
