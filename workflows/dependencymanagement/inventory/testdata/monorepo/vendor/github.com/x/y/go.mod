module github.com/x/y

require github.com/should/not v1.0.0
