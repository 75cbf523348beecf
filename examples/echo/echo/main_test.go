package echo

import (
	"testing"

	"github.com/gevent-go/gevent/examples/echo/internal/echotest"
)

func TestMain(m *testing.M) { echotest.Main(m) }
