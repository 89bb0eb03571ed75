package handlers

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

var (
	ownerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
	repoPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	idPattern    = regexp.MustCompile(`^[1-9][0-9]*$`)
)

// ValidOwner reports whether s is a GitHub user or organization login: letters, digits and
// hyphens, at most 39 characters, not starting with a hyphen.
func ValidOwner(s string) bool { return ownerPattern.MatchString(s) }

// ValidRepoName reports whether s is a GitHub repository name: 1 to 100 letters, digits, '.',
// '_' or '-', and neither "." nor "..".
func ValidRepoName(s string) bool { return repoPattern.MatchString(s) && s != "." && s != ".." }

// fields reads typed members of a payload and keeps the first problem as a
// MalformedPayloadError, so a handler reads every field it needs and checks the error once. A
// value of the wrong type is never coerced: "abc", 1.5, true or {} for an id is a problem.
type fields struct {
	event string
	err   error
}

func (f *fields) fail(path, reason string) {
	if f.err == nil {
		f.err = &MalformedPayloadError{Event: f.event, Reason: path + " " + reason}
	}
}

// present reports whether v holds a value; it records a problem when it must and does not.
func (f *fields) present(v gjson.Result, path string, required bool) bool {
	if v.Exists() && v.Type != gjson.Null {
		return true
	}
	if required {
		f.fail(path, "is missing")
	}
	return false
}

// object checks that v, when present, is a JSON object (required: it must be present).
func (f *fields) object(v gjson.Result, path string, required bool) gjson.Result {
	if f.present(v, path, required) && !v.IsObject() {
		f.fail(path, "must be an object")
	}
	return v
}

// id returns the positive integer at v that fits in an int64.
func (f *fields) id(v gjson.Result, path string) int64 { return f.readID(v, path, true) }

// optionalID is id for a member that may be absent or null (then 0).
func (f *fields) optionalID(v gjson.Result, path string) int64 { return f.readID(v, path, false) }

func (f *fields) readID(v gjson.Result, path string, required bool) int64 {
	if !f.present(v, path, required) {
		return 0
	}
	if v.Type != gjson.Number || !idPattern.MatchString(v.Raw) {
		f.fail(path, "must be a positive integer")
		return 0
	}
	n, err := strconv.ParseInt(v.Raw, 10, 64)
	if err != nil {
		f.fail(path, "must be a positive integer of at most 9223372036854775807")
		return 0
	}
	return n
}

// str returns the string at v.
func (f *fields) str(v gjson.Result, path string) string { return f.readString(v, path, true) }

// optionalString is str for a member that may be absent or null (then "").
func (f *fields) optionalString(v gjson.Result, path string) string {
	return f.readString(v, path, false)
}

func (f *fields) readString(v gjson.Result, path string, required bool) string {
	if !f.present(v, path, required) {
		return ""
	}
	if v.Type != gjson.String {
		f.fail(path, "must be a string")
		return ""
	}
	return v.Str
}

// owner returns the login at v, which must be a valid GitHub user or organization login.
func (f *fields) owner(v gjson.Result, path string) string {
	s := f.str(v, path)
	if f.err == nil && !ValidOwner(s) {
		f.fail(path, "must be a GitHub login (letters, digits and '-', at most 39, not starting with '-')")
	}
	return s
}

// repo returns the repository name at v, which must be a valid GitHub repository name.
func (f *fields) repo(v gjson.Result, path string) string {
	s := f.str(v, path)
	if f.err == nil && !ValidRepoName(s) {
		f.fail(path, "must be a GitHub repository name (1 to 100 letters, digits, '.', '_' or '-', not '.' or '..')")
	}
	return s
}

// repository reads a repository's name and owner login: repo is the repository object (for a
// scanned payload, its stand-in), name and login its "name" and "owner.login".
func (f *fields) repository(repo, name, login gjson.Result, path string) (owner, repoName string) {
	f.object(repo, path, true)
	repoName = f.repo(name, path+".name")
	owner = f.owner(login, path+".owner.login")
	return owner, repoName
}

// installationID reads the id of the payload's optional installation object.
func (f *fields) installationID(installation, id gjson.Result) int64 {
	f.object(installation, "installation", false)
	return f.optionalID(id, "installation.id")
}

// fullName reads "owner/name" at v.
func (f *fields) fullName(v gjson.Result, path string) string {
	s := f.str(v, path)
	owner, name, ok := strings.Cut(s, "/")
	if f.err == nil && (!ok || !ValidOwner(owner) || !ValidRepoName(name)) {
		f.fail(path, "must be a repository full name (owner/name)")
	}
	return s
}

// array returns the elements of the array at v, which may be absent or null (then none).
func (f *fields) array(v gjson.Result, path string) []gjson.Result {
	if !f.present(v, path, false) {
		return nil
	}
	if !v.IsArray() {
		f.fail(path, "must be an array")
		return nil
	}
	return v.Array()
}

// prNumbers reads the numbers of a pull_requests array.
func (f *fields) prNumbers(v gjson.Result, path string) []int64 {
	var out []int64
	for i, pr := range f.array(v, path) {
		at := path + "." + strconv.Itoa(i)
		f.object(pr, at, true)
		out = append(out, f.id(pr.Get("number"), at+".number"))
	}
	return out
}
