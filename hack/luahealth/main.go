// luahealth runs an Argo CD resource health script (the Lua of
// resource.customizations.health.<group>_<kind>) on one Kubernetes object read as JSON on stdin,
// with github.com/yuin/gopher-lua — the interpreter Argo CD embeds — set up the way Argo CD's
// util/lua sets it up, and prints {"status":"Healthy|Progressing|Degraded|Suspended|Missing|Unknown","message":"..."}.
// Argo CD's own module does not build from the Go proxy, so this mirrors the parts that decide a verdict:
//   - only the base, table and package libraries are open (Argo CD adds a restricted os library, which
//     health scripts for aksnap do not use: a script that calls os fails here);
//   - the object is converted to a Lua table value by value: JSON numbers as Lua numbers (integers
//     come from the apiserver as int64, like unstructured.Unstructured), nested maps and arrays as tables;
//   - the script runs under a 1 s deadline and must return a table;
//   - a status outside Argo CD's health codes becomes Unknown "Lua returned an invalid health status".
//
// Usage: luahealth SCRIPT.lua < object.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

var validStatus = map[string]bool{"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true}

func main() {
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: luahealth SCRIPT.lua < object.json"))
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		fail(err)
	}
	res, err := run(string(script), obj)
	if err != nil {
		fail(err)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func run(script string, obj map[string]any) (health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return health{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return health{}, err
	}
	ret := l.Get(-1)
	tbl, ok := ret.(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("expect table output from Lua script, not %s", ret.Type().String())
	}
	h := health{Status: luaString(tbl.RawGetString("status")), Message: luaString(tbl.RawGetString("message"))}
	if !validStatus[h.Status] {
		return health{Status: "Unknown", Message: "Lua returned an invalid health status"}, nil
	}
	return h, nil
}

func luaString(v lua.LValue) string {
	if v == lua.LNil {
		return ""
	}
	return v.String()
}

func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return lua.LNumber(i)
		}
		f, _ := x.Float64()
		return lua.LNumber(f)
	case []any:
		t := l.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "luahealth:", err)
	os.Exit(1)
}
