// API service module.
module example.com/monorepo/services/api

go 1.22

toolchain go1.22.3

require (
	github.com/gorilla/mux   v1.8.0 // router
	golang.org/x/text v0.3.7
	"github.com/quoted/mod" v1.2.3
)

require github.com/davecgh/go-spew v1.1.1 // indirect

require (
	github.com/pmezard/go-difflib v1.0.0 // indirect
	gopkg.in/yaml.v3 v3.0.0-20200313102051-9f266ea9e77c // indirect
)

replace golang.org/x/text => golang.org/x/text v0.14.0

replace github.com/gorilla/mux v1.8.0 => ../forks/mux

exclude golang.org/x/text v0.3.8

retract (
	v1.0.1 // published by mistake
	[v1.1.0, v1.1.5]
)
