// kstatus reads one Kubernetes object as JSON on stdin and prints the kstatus verdict
// (sigs.k8s.io/cli-utils/pkg/kstatus) as JSON: {"status":"Current|InProgress|Failed|...","message":"..."}.
// Tests use it to check our conditions with the real library Flux and Argo CD rely on.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// UnmarshalJSON decodes numbers as int64 like the apiserver does (metadata.generation).
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	res, err := status.Compute(obj)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]string{"status": res.Status.String(), "message": res.Message})
	fmt.Println(string(out))
}
