module github.com/tailprobe/tailprobe/examples/lookup-go

go 1.19

require github.com/tailprobe/tailprobe/go v0.0.0

replace github.com/tailprobe/tailprobe/go => ../../go
