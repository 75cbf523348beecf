module github.com/gevent-go/gevent

go 1.26

require (
	github.com/panjf2000/ants/v2 v2.12.1
	go.uber.org/goleak v1.3.0
)

require golang.org/x/sync v0.11.0 // indirect
