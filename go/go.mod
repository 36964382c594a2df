module github.com/tailprobe/tailprobe/go

go 1.19
