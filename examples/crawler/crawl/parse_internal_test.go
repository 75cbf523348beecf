package crawl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseBufferedOrStreaming: the greenlet crawler's parse finds exactly
// the links and truncation that the plain-Go streaming parse finds, whether
// the page fits the memory budget, runs out of it part way (the rest is
// parsed as it streams), or finds it spent; the budget is whole again after.
func TestParseBufferedOrStreaming(t *testing.T) {
	var page bytes.Buffer
	page.WriteString("<!DOCTYPE html><html><body>")
	for i := range 3000 {
		fmt.Fprintf(&page, "<p>paragraph %d <a href=\"/p/%d.html\">link</a></p>\n", i, i)
	}
	page.WriteString("</body></html>")
	body := page.Bytes()
	require.Greater(t, len(body), 4*chunkSize)
	u, _ := url.Parse("http://h/dir/x.html")

	for _, maxBody := range []int64{int64(len(body)) + 1, int64(len(body)), 50_000, chunkSize, 100} {
		want, wantCut, err := readLinks(u, bytes.NewReader(body), maxBody)
		require.NoError(t, err)
		for _, budget := range []int64{64 << 20, chunkSize, 3 * chunkSize, 0} {
			t.Run(fmt.Sprintf("max-%d/budget-%d", maxBody, budget), func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.MaxBody = maxBody
				p := newParser(&cfg)
				p.free = budget
				// One byte per read: every chunk boundary is crossed by
				// reads, as with a slow network.
				links, cut, err := p.parse(context.Background(), u, iotest.OneByteReader(bytes.NewReader(body)))
				require.NoError(t, err)
				assert.Equal(t, want, links)
				assert.Equal(t, wantCut, cut)
				assert.Equal(t, budget, p.free, "the budget is given back")
			})
		}
	}
}

// TestChunksRead: chunks read back exactly the bytes put in, across chunk
// boundaries, whatever the size of the reads.
func TestChunksRead(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 3*chunkSize/16+5)
	p := &parser{free: 1 << 30}
	c, complete, err := p.buffer(bytes.NewReader(data), 1<<30)
	require.NoError(t, err)
	require.True(t, complete)
	require.Len(t, c.bufs, 4)
	got, err := io.ReadAll(iotest.HalfReader(c))
	require.NoError(t, err)
	assert.Equal(t, data, got)
	c.recycle()
	assert.Nil(t, c.bufs)
}
