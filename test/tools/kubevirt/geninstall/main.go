// geninstall writes what virt-operator would install for KubeVirt's control plane, from
// virt-operator's own install strategy for a default KubeVirt CR in namespace "kubevirt", into the
// directory given as its only argument, one YAML file per kind: serviceaccounts, clusterroles,
// clusterrolebindings, roles, rolebindings, validatingadmissionpolicies(+bindings),
// mutatingwebhookconfigurations, validatingwebhookconfigurations and apiservices. The webhook
// configurations and API services still name virt-api's Service; whoever starts virt-api points
// them at it. virt-operator's own validating webhook (KubeVirt CR updates and deletes, served only
// by virt-operator, which does not run here) is left out. Run by test/tools/build.sh kubevirt.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	apiregscheme "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/scheme"

	virtv1 "kubevirt.io/api/core/v1"

	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/install"
	operatorutil "kubevirt.io/kubevirt/pkg/virt-operator/util"
	"kubevirt.io/kubevirt/tools/util"
)

const namespace = "kubevirt"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: geninstall <output dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "geninstall:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	kv := &virtv1.KubeVirt{ObjectMeta: metav1.ObjectMeta{Name: "kubevirt", Namespace: namespace}}
	s, err := install.GenerateCurrentInstallStrategy(operatorutil.GetTargetConfigFromKV(kv), "", namespace)
	if err != nil {
		return err
	}
	var validating []any
	for _, w := range s.ValidatingWebhookConfigurations() {
		if w.Name != components.KubeVirtOperatorValidatingWebhookName {
			validating = append(validating, w)
		}
	}
	files := map[string][]any{
		"serviceaccounts.yaml":                   list(s.ServiceAccounts()),
		"clusterroles.yaml":                      list(s.ClusterRoles()),
		"clusterrolebindings.yaml":               list(s.ClusterRoleBindings()),
		"roles.yaml":                             list(s.Roles()),
		"rolebindings.yaml":                      list(s.RoleBindings()),
		"validatingadmissionpolicies.yaml":       list(s.ValidatingAdmissionPolicies()),
		"validatingadmissionpolicybindings.yaml": list(s.ValidatingAdmissionPolicyBindings()),
		"mutatingwebhookconfigurations.yaml":     list(s.MutatingWebhookConfigurations()),
		"validatingwebhookconfigurations.yaml":   validating,
		"apiservices.yaml":                       list(s.APIServices()),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Each object's apiVersion and kind from the scheme: virt-operator writes through typed clients and
	// leaves some wrong (its ValidatingAdmissionPolicy says apiVersion "v1").
	sch := runtime.NewScheme()
	if err := scheme.AddToScheme(sch); err != nil {
		return err
	}
	if err := apiregscheme.AddToScheme(sch); err != nil {
		return err
	}
	for name, objs := range files {
		for _, o := range objs {
			obj := o.(runtime.Object)
			gvks, _, err := sch.ObjectKinds(obj)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			obj.GetObjectKind().SetGroupVersionKind(gvks[0])
		}
	}
	for name, objs := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err = util.MarshallObject(o, f); err != nil {
				break
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func list[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
