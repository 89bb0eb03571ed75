// Package botprtest serves one repository's Git data, contents and pull requests on the shared
// fake GitHub (ghapptest): blobs, trees, commits and refs as GitHub's Git Data API keeps them
// (content-addressed; a tree is stored flat, path to blob), the contents API over them, and pull
// requests from its branches. Tests seed it with Commit, push to it as a person with Commit on
// the bot's branch, and read back Files, Pulls and the diff of a pull request.
package botprtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/contexten/autonomous/ghapp/ghapptest"
)

// Entry is a file in a tree.
type Entry struct{ Mode, SHA string }

// CommitObj is a stored commit.
type CommitObj struct {
	SHA, Tree, Message string
	Parents            []string
	AuthorName         string
	AuthorEmail        string
	CommitterEmail     string
}

// Pull is a stored pull request.
type Pull struct {
	Number                int
	Title, Body           string
	Head, Base            string // branch names
	State                 string // open or closed
	Merged                bool
	Labels                []string
	Reviewers, Teams      []string
	MaintainerCanModify   bool
	MergeMethod, MergeSHA string
}

// Options leave routes out that the test serves itself (with other state).
type Options struct {
	// NoPullGet leaves out GET pulls/{n}; NoComments the issue comment routes.
	NoPullGet, NoComments bool
}

// Repo is the fake repository owner/name.
type Repo struct {
	Owner, Name string

	mu       sync.Mutex
	blobs    map[string][]byte
	trees    map[string]map[string]Entry
	commits  map[string]*CommitObj
	refs     map[string]string // branch -> commit
	tags     map[string]string // tag name -> object sha (commit or annotated tag)
	tagObjs  map[string]string // annotated tag sha -> commit sha
	pulls    []*Pull
	comments map[int][]string
	seq      int
}

// Install serves a new, empty repository owner/name on srv.
func Install(srv *ghapptest.Server, owner, name string, opts Options) *Repo {
	r := &Repo{Owner: owner, Name: name, blobs: map[string][]byte{}, trees: map[string]map[string]Entry{},
		commits: map[string]*CommitObj{}, refs: map[string]string{}, tags: map[string]string{}, tagObjs: map[string]string{},
		comments: map[int][]string{}}
	r.trees[treeSHA(nil)] = map[string]Entry{}
	p := "/repos/" + owner + "/" + name
	srv.HandleFunc("GET "+p+"/git/ref/{ref...}", r.getRef)
	srv.HandleFunc("GET "+p+"/git/matching-refs/{ref...}", r.matchingRefs)
	srv.HandleFunc("POST "+p+"/git/refs", r.createRef)
	srv.HandleFunc("PATCH "+p+"/git/refs/{ref...}", r.updateRef)
	srv.HandleFunc("GET "+p+"/git/commits/{sha}", r.getCommit)
	srv.HandleFunc("POST "+p+"/git/commits", r.createCommit)
	srv.HandleFunc("POST "+p+"/git/blobs", r.createBlob)
	srv.HandleFunc("GET "+p+"/git/blobs/{sha}", r.getBlob)
	srv.HandleFunc("POST "+p+"/git/trees", r.createTree)
	srv.HandleFunc("GET "+p+"/git/trees/{sha}", r.getTree)
	srv.HandleFunc("GET "+p+"/git/tags/{sha}", r.getTag)
	srv.HandleFunc("GET "+p+"/contents/{path...}", r.getContents)
	srv.HandleFunc("GET "+p+"/pulls", r.listPulls)
	srv.HandleFunc("POST "+p+"/pulls", r.createPull)
	srv.HandleFunc("PATCH "+p+"/pulls/{n}", r.editPull)
	srv.HandleFunc("PUT "+p+"/pulls/{n}/merge", r.mergePull)
	srv.HandleFunc("POST "+p+"/pulls/{n}/requested_reviewers", r.requestReviewers)
	srv.HandleFunc("POST "+p+"/issues/{n}/labels", r.addLabels)
	if !opts.NoPullGet {
		srv.HandleFunc("GET "+p+"/pulls/{n}", r.getPull)
	}
	if !opts.NoComments {
		srv.HandleFunc("GET "+p+"/issues/{n}/comments", r.listComments)
		srv.HandleFunc("POST "+p+"/issues/{n}/comments", r.createComment)
		srv.HandleFunc("PATCH "+p+"/issues/comments/{id}", r.editComment)
	}
	return r
}

// BlobSHA is git's object name of a blob with content.
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func treeSHA(t map[string]Entry) string {
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha1.New()
	fmt.Fprint(h, "tree\x00")
	for _, p := range paths {
		fmt.Fprintf(h, "%s %s %s\n", t[p].Mode, p, t[p].SHA)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Commit writes files (path to content; nil content deletes) on top of branch's head as the
// author email (a person, unless it is the bot's address) with message, creating the branch from
// from ("" for an orphan) when it does not exist, and returns the commit.
func (r *Repo) Commit(branch, from, email, message string, files map[string][]byte) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	parent := r.refs[branch]
	if parent == "" && from != "" {
		parent = r.refs[from]
	}
	tree := map[string]Entry{}
	if parent != "" {
		for p, e := range r.trees[r.commits[parent].Tree] {
			tree[p] = e
		}
	}
	for p, c := range files {
		if c == nil {
			delete(tree, p)
			continue
		}
		sha := BlobSHA(c)
		r.blobs[sha] = append([]byte(nil), c...)
		tree[p] = Entry{Mode: "100644", SHA: sha}
	}
	ts := treeSHA(tree)
	r.trees[ts] = tree
	var parents []string
	if parent != "" {
		parents = []string{parent}
	}
	c := r.newCommitLocked(ts, parents, message, "Someone", email, email)
	r.refs[branch] = c.SHA
	return c.SHA
}

func (r *Repo) newCommitLocked(tree string, parents []string, message, name, email, committer string) *CommitObj {
	r.seq++
	h := sha1.New()
	fmt.Fprintf(h, "commit %s %v %q %s %s %d", tree, parents, message, email, committer, r.seq)
	c := &CommitObj{SHA: hex.EncodeToString(h.Sum(nil)), Tree: tree, Message: message, Parents: parents,
		AuthorName: name, AuthorEmail: email, CommitterEmail: committer}
	r.commits[c.SHA] = c
	return c
}

// Tag makes a lightweight tag (annotated false: the ref names the commit) or an annotated one
// (the ref names a tag object that points at the commit) at commit sha; it returns the object
// the ref names.
func (r *Repo) Tag(name, sha string, annotated bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	obj := sha
	if annotated {
		h := sha1.Sum([]byte("tag " + name + " " + sha))
		obj = hex.EncodeToString(h[:])
		r.tagObjs[obj] = sha
	}
	r.tags[name] = obj
	return obj
}

// Head is branch's head commit ("" when there is no branch).
func (r *Repo) Head(branch string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refs[branch]
}

// CommitOf returns a stored commit.
func (r *Repo) CommitOf(sha string) (CommitObj, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.commits[sha]
	if !ok {
		return CommitObj{}, false
	}
	return *c, true
}

// Files returns the files of branch's head (or of a commit SHA).
func (r *Repo) Files(branchOrSHA string) map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	sha := r.refs[branchOrSHA]
	if sha == "" {
		sha = branchOrSHA
	}
	c := r.commits[sha]
	if c == nil {
		return nil
	}
	out := map[string][]byte{}
	for p, e := range r.trees[c.Tree] {
		out[p] = r.blobs[e.SHA]
	}
	return out
}

// Pulls returns copies of the pull requests, by number.
func (r *Repo) Pulls() []Pull {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Pull, 0, len(r.pulls))
	for _, p := range r.pulls {
		out = append(out, *p)
	}
	return out
}

// AddPull records an open pull request from head into base (a person's), returning its number.
func (r *Repo) AddPull(head, base, title string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := &Pull{Number: len(r.pulls) + 1, Head: head, Base: base, Title: title, State: "open"}
	r.pulls = append(r.pulls, p)
	return p.Number
}

// Comments returns the comments on issue or pull request number.
func (r *Repo) Comments(number int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.comments[number]...)
}

// Changed lists the paths whose content differs between two commits (or branches).
func (r *Repo) Changed(from, to string) []string {
	a, b := r.Files(from), r.Files(to)
	var out []string
	for p, c := range b {
		if old, ok := a[p]; !ok || string(old) != string(c) {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func fail(w http.ResponseWriter, status int, msg string) {
	ghapptest.JSON(w, status, map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func decode(w http.ResponseWriter, req *http.Request, v any) bool {
	if err := json.NewDecoder(req.Body).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

func (r *Repo) refJSON(ref, sha, typ string) map[string]any {
	return map[string]any{"ref": "refs/" + ref, "node_id": "REF_" + sha[:7], "url": "https://api.github.com/repos/" + r.Owner + "/" + r.Name + "/git/refs/" + ref,
		"object": map[string]any{"type": typ, "sha": sha, "url": "https://api.github.com/repos/" + r.Owner + "/" + r.Name + "/git/" + typ + "s/" + sha}}
}

// lookupLocked resolves "heads/x" or "tags/x" to its object and type.
func (r *Repo) lookupLocked(ref string) (sha, typ string, ok bool) {
	if b, found := strings.CutPrefix(ref, "heads/"); found {
		sha, ok = r.refs[b]
		return sha, "commit", ok
	}
	if t, found := strings.CutPrefix(ref, "tags/"); found {
		if sha, ok = r.tags[t]; ok {
			if _, annotated := r.tagObjs[sha]; annotated {
				return sha, "tag", true
			}
			return sha, "commit", true
		}
	}
	return "", "", false
}

func (r *Repo) getRef(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref := req.PathValue("ref")
	sha, typ, ok := r.lookupLocked(ref)
	if !ok {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	ghapptest.JSON(w, http.StatusOK, r.refJSON(ref, sha, typ))
}

func (r *Repo) matchingRefs(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prefix := req.PathValue("ref")
	var out []map[string]any
	var names []string
	for b := range r.refs {
		names = append(names, "heads/"+b)
	}
	for t := range r.tags {
		names = append(names, "tags/"+t)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			sha, typ, _ := r.lookupLocked(n)
			out = append(out, r.refJSON(n, sha, typ))
		}
	}
	if out == nil {
		out = []map[string]any{}
	}
	ghapptest.JSON(w, http.StatusOK, out)
}

func (r *Repo) createRef(w http.ResponseWriter, req *http.Request) {
	var body struct{ Ref, SHA string }
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	branch, ok := strings.CutPrefix(body.Ref, "refs/heads/")
	switch {
	case !ok || branch == "":
		fail(w, http.StatusUnprocessableEntity, "Reference name must start with 'refs/' and have at least two slashes.")
		return
	case r.commits[body.SHA] == nil:
		fail(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	case r.refs[branch] != "":
		fail(w, http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	r.refs[branch] = body.SHA
	ghapptest.JSON(w, http.StatusCreated, r.refJSON("heads/"+branch, body.SHA, "commit"))
}

// isAncestorLocked reports whether a is b or an ancestor of b.
func (r *Repo) isAncestorLocked(a, b string) bool {
	for seen := map[string]bool{}; b != "" && !seen[b]; {
		if a == b {
			return true
		}
		seen[b] = true
		c := r.commits[b]
		if c == nil || len(c.Parents) == 0 {
			return false
		}
		b = c.Parents[0]
	}
	return false
}

func (r *Repo) updateRef(w http.ResponseWriter, req *http.Request) {
	var body struct {
		SHA   string
		Force bool
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	branch, ok := strings.CutPrefix(req.PathValue("ref"), "heads/")
	old := r.refs[branch]
	switch {
	case !ok || old == "":
		fail(w, http.StatusUnprocessableEntity, "Reference does not exist")
		return
	case r.commits[body.SHA] == nil:
		fail(w, http.StatusUnprocessableEntity, "Object does not exist")
		return
	case !body.Force && !r.isAncestorLocked(old, body.SHA):
		fail(w, http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	r.refs[branch] = body.SHA
	ghapptest.JSON(w, http.StatusOK, r.refJSON("heads/"+branch, body.SHA, "commit"))
}

func (r *Repo) commitJSON(c *CommitObj) map[string]any {
	parents := []map[string]any{}
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{"sha": p})
	}
	return map[string]any{"sha": c.SHA, "message": c.Message, "tree": map[string]any{"sha": c.Tree}, "parents": parents,
		"author":    map[string]any{"name": c.AuthorName, "email": c.AuthorEmail, "date": "2026-12-01T00:00:00Z"},
		"committer": map[string]any{"name": c.AuthorName, "email": c.CommitterEmail, "date": "2026-12-01T00:00:00Z"}}
}

func (r *Repo) getCommit(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.commits[req.PathValue("sha")]
	if c == nil {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	ghapptest.JSON(w, http.StatusOK, r.commitJSON(c))
}

func (r *Repo) createCommit(w http.ResponseWriter, req *http.Request) {
	type person struct{ Name, Email string }
	var body struct {
		Message   string
		Tree      string
		Parents   []string
		Author    *person
		Committer *person
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.trees[body.Tree]; !ok || body.Message == "" {
		fail(w, http.StatusUnprocessableEntity, "Tree SHA does not exist")
		return
	}
	for _, p := range body.Parents {
		if r.commits[p] == nil {
			fail(w, http.StatusUnprocessableEntity, "Parent SHA does not exist or is not a commit object")
			return
		}
	}
	author := person{Name: "autonomous-ci[bot]", Email: "123+autonomous-ci[bot]@users.noreply.github.com"}
	if body.Author != nil {
		author = *body.Author
	}
	committer := author
	if body.Committer != nil {
		committer = *body.Committer
	}
	c := r.newCommitLocked(body.Tree, body.Parents, body.Message, author.Name, author.Email, committer.Email)
	ghapptest.JSON(w, http.StatusCreated, r.commitJSON(c))
}

func (r *Repo) createBlob(w http.ResponseWriter, req *http.Request) {
	var body struct{ Content, Encoding string }
	if !decode(w, req, &body) {
		return
	}
	content := []byte(body.Content)
	if body.Encoding == "base64" {
		var err error
		if content, err = base64.StdEncoding.DecodeString(body.Content); err != nil {
			fail(w, http.StatusUnprocessableEntity, "Invalid base64")
			return
		}
	}
	sha := BlobSHA(content)
	r.mu.Lock()
	r.blobs[sha] = content
	r.mu.Unlock()
	ghapptest.JSON(w, http.StatusCreated, map[string]any{"sha": sha, "url": "https://api.github.com/repos/" + r.Owner + "/" + r.Name + "/git/blobs/" + sha})
}

func (r *Repo) getBlob(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	b, ok := r.blobs[req.PathValue("sha")]
	r.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	ghapptest.JSON(w, http.StatusOK, map[string]any{"sha": req.PathValue("sha"), "size": len(b), "encoding": "base64",
		"content": base64.StdEncoding.EncodeToString(b)})
}

func (r *Repo) createTree(w http.ResponseWriter, req *http.Request) {
	var body struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path, Mode, Type string
			SHA              *string
			Content          *string
		}
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tree := map[string]Entry{}
	if body.BaseTree != "" {
		base, ok := r.trees[body.BaseTree]
		if !ok {
			fail(w, http.StatusUnprocessableEntity, "base_tree is not a valid tree oid")
			return
		}
		for p, e := range base {
			tree[p] = e
		}
	}
	for _, e := range body.Tree {
		switch {
		case e.SHA == nil && e.Content == nil:
			if _, ok := tree[e.Path]; !ok {
				fail(w, http.StatusUnprocessableEntity, "GitRPC::BadObjectState")
				return
			}
			delete(tree, e.Path)
		case e.Content != nil:
			sha := BlobSHA([]byte(*e.Content))
			r.blobs[sha] = []byte(*e.Content)
			tree[e.Path] = Entry{Mode: e.Mode, SHA: sha}
		default:
			if _, ok := r.blobs[*e.SHA]; !ok {
				fail(w, http.StatusUnprocessableEntity, "tree.sha "+*e.SHA+" is not a valid blob")
				return
			}
			tree[e.Path] = Entry{Mode: e.Mode, SHA: *e.SHA}
		}
	}
	sha := treeSHA(tree)
	r.trees[sha] = tree
	ghapptest.JSON(w, http.StatusCreated, r.treeJSON(sha, tree))
}

func (r *Repo) treeJSON(sha string, tree map[string]Entry) map[string]any {
	paths := make([]string, 0, len(tree))
	for p := range tree {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	entries := []map[string]any{}
	for _, p := range paths {
		entries = append(entries, map[string]any{"path": p, "mode": tree[p].Mode, "type": "blob", "sha": tree[p].SHA, "size": len(r.blobs[tree[p].SHA])})
	}
	return map[string]any{"sha": sha, "tree": entries, "truncated": false}
}

// getTree answers the recursive listing (files only) of a tree, or of a commit's tree.
func (r *Repo) getTree(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sha := req.PathValue("sha")
	if c := r.commits[sha]; c != nil {
		sha = c.Tree
	} else if b := r.refs[sha]; b != "" {
		sha = r.commits[b].Tree
	}
	tree, ok := r.trees[sha]
	if !ok {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	ghapptest.JSON(w, http.StatusOK, r.treeJSON(sha, tree))
}

func (r *Repo) getTag(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sha := req.PathValue("sha")
	target, ok := r.tagObjs[sha]
	if !ok {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	ghapptest.JSON(w, http.StatusOK, map[string]any{"sha": sha, "tag": "tag", "message": "release",
		"object": map[string]any{"type": "commit", "sha": target}})
}

// getContents answers a file's contents at ?ref= (a branch or commit; the default branch
// "main" when absent) or a directory's listing.
func (r *Repo) getContents(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref := req.URL.Query().Get("ref")
	if ref == "" {
		ref = "main"
	}
	sha := r.refs[ref]
	if sha == "" {
		sha = ref
	}
	c := r.commits[sha]
	if c == nil {
		fail(w, http.StatusNotFound, "No commit found for the ref "+ref)
		return
	}
	tree := r.trees[c.Tree]
	p := strings.Trim(req.PathValue("path"), "/")
	if e, ok := tree[p]; ok {
		b := r.blobs[e.SHA]
		ghapptest.JSON(w, http.StatusOK, map[string]any{"type": "file", "encoding": "base64", "size": len(b), "name": p[strings.LastIndex(p, "/")+1:],
			"path": p, "sha": e.SHA, "content": base64.StdEncoding.EncodeToString(b)})
		return
	}
	var list []map[string]any
	seen := map[string]bool{}
	for f, e := range tree {
		rest, ok := strings.CutPrefix(f, p+"/")
		if p == "" {
			rest, ok = f, true
		}
		if !ok {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		full := strings.TrimPrefix(p+"/"+name, "/")
		if isDir {
			list = append(list, map[string]any{"type": "dir", "name": name, "path": full})
		} else {
			list = append(list, map[string]any{"type": "file", "name": name, "path": full, "sha": e.SHA, "size": len(r.blobs[e.SHA])})
		}
	}
	if list == nil {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["path"].(string) < list[j]["path"].(string) })
	ghapptest.JSON(w, http.StatusOK, list)
}

func (r *Repo) pullJSON(p *Pull) map[string]any {
	labels := []map[string]any{}
	for _, l := range p.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	return map[string]any{"number": p.Number, "title": p.Title, "body": p.Body, "state": p.State, "merged": p.Merged,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", r.Owner, r.Name, p.Number), "labels": labels,
		"head": map[string]any{"ref": p.Head, "sha": r.refs[p.Head], "repo": map[string]any{"full_name": r.Owner + "/" + r.Name}},
		"base": map[string]any{"ref": p.Base, "sha": r.refs[p.Base]}}
}

func (r *Repo) pullLocked(w http.ResponseWriter, req *http.Request) *Pull {
	n, _ := strconv.Atoi(req.PathValue("n"))
	for _, p := range r.pulls {
		if p.Number == n {
			return p
		}
	}
	fail(w, http.StatusNotFound, "Not Found")
	return nil
}

func (r *Repo) listPulls(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := req.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	out := []map[string]any{}
	for _, p := range r.pulls {
		if head := q.Get("head"); head != "" && head != r.Owner+":"+p.Head {
			continue
		}
		if state != "all" && p.State != state {
			continue
		}
		out = append(out, r.pullJSON(p))
	}
	ghapptest.JSON(w, http.StatusOK, out)
}

func (r *Repo) getPull(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.pullLocked(w, req); p != nil {
		ghapptest.JSON(w, http.StatusOK, r.pullJSON(p))
	}
}

func (r *Repo) createPull(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Title, Head, Base, Body string
		MaintainerCanModify     bool `json:"maintainer_can_modify"`
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.refs[body.Head] == "" || r.refs[body.Base] == "":
		fail(w, http.StatusUnprocessableEntity, "Validation Failed: head or base does not exist")
		return
	case slices.ContainsFunc(r.pulls, func(p *Pull) bool { return p.Head == body.Head && p.State == "open" }):
		fail(w, http.StatusUnprocessableEntity, "Validation Failed: A pull request already exists for "+r.Owner+":"+body.Head+".")
		return
	}
	p := &Pull{Number: len(r.pulls) + 1, Title: body.Title, Body: body.Body, Head: body.Head, Base: body.Base, State: "open",
		MaintainerCanModify: body.MaintainerCanModify}
	r.pulls = append(r.pulls, p)
	ghapptest.JSON(w, http.StatusCreated, r.pullJSON(p))
}

func (r *Repo) editPull(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Title, Body, State *string
		Base               *string
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pullLocked(w, req)
	if p == nil {
		return
	}
	if body.Title != nil {
		p.Title = *body.Title
	}
	if body.Body != nil {
		p.Body = *body.Body
	}
	if body.State != nil {
		p.State = *body.State
	}
	if body.Base != nil {
		p.Base = *body.Base
	}
	ghapptest.JSON(w, http.StatusOK, r.pullJSON(p))
}

func (r *Repo) mergePull(w http.ResponseWriter, req *http.Request) {
	var body struct {
		SHA         string
		MergeMethod string `json:"merge_method"`
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pullLocked(w, req)
	switch {
	case p == nil:
		return
	case p.State != "open":
		fail(w, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
		return
	case body.SHA != "" && body.SHA != r.refs[p.Head]:
		fail(w, http.StatusConflict, "Head branch was modified. Review and try the merge again.")
		return
	}
	p.State, p.Merged, p.MergeMethod, p.MergeSHA = "closed", true, body.MergeMethod, body.SHA
	ghapptest.JSON(w, http.StatusOK, map[string]any{"sha": body.SHA, "merged": true, "message": "Pull Request successfully merged"})
}

func (r *Repo) requestReviewers(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Reviewers     []string
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.pullLocked(w, req); p != nil {
		p.Reviewers = append(p.Reviewers, body.Reviewers...)
		p.Teams = append(p.Teams, body.TeamReviewers...)
		ghapptest.JSON(w, http.StatusCreated, r.pullJSON(p))
	}
}

// addLabels takes GitHub's two shapes: {"labels": [...]} and a bare array.
func (r *Repo) addLabels(w http.ResponseWriter, req *http.Request) {
	var raw json.RawMessage
	if !decode(w, req, &raw) {
		return
	}
	var body struct{ Labels []string }
	if err := json.Unmarshal(raw, &body.Labels); err != nil {
		if err := json.Unmarshal(raw, &body); err != nil {
			fail(w, http.StatusUnprocessableEntity, "Invalid request")
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.pullLocked(w, req); p != nil {
		out := []map[string]any{}
		for _, l := range body.Labels {
			if !slices.Contains(p.Labels, l) {
				p.Labels = append(p.Labels, l)
			}
		}
		for _, l := range p.Labels {
			out = append(out, map[string]any{"name": l})
		}
		ghapptest.JSON(w, http.StatusOK, out)
	}
}

func (r *Repo) listComments(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := strconv.Atoi(req.PathValue("n"))
	out := []map[string]any{}
	for i, c := range r.comments[n] {
		out = append(out, map[string]any{"id": n*1000 + i, "body": c, "user": map[string]any{"login": "autonomous-ci[bot]", "type": "Bot"}})
	}
	ghapptest.JSON(w, http.StatusOK, out)
}

func (r *Repo) createComment(w http.ResponseWriter, req *http.Request) {
	var body struct{ Body string }
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := strconv.Atoi(req.PathValue("n"))
	r.comments[n] = append(r.comments[n], body.Body)
	ghapptest.JSON(w, http.StatusCreated, map[string]any{"id": n*1000 + len(r.comments[n]) - 1, "body": body.Body})
}

func (r *Repo) editComment(w http.ResponseWriter, req *http.Request) {
	var body struct{ Body string }
	if !decode(w, req, &body) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, _ := strconv.Atoi(req.PathValue("id"))
	n, i := id/1000, id%1000
	if i >= len(r.comments[n]) {
		fail(w, http.StatusNotFound, "Not Found")
		return
	}
	r.comments[n][i] = body.Body
	ghapptest.JSON(w, http.StatusOK, map[string]any{"id": id, "body": body.Body})
}
