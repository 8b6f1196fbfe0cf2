// gencrds writes every CustomResourceDefinition KubeVirt's virt-operator installs, one YAML file per
// CRD (<group>_<plural>.yaml), into the directory given as its only argument. It uses virt-operator's
// own generator code: the install strategy (the CRDs of every KubeVirt component, as the operator
// builds them for a default KubeVirt CR) plus the KubeVirt CRD itself, which the operator's manifests
// carry. Run by test/tools/build.sh kubevirt-crds.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	virtv1 "kubevirt.io/api/core/v1"

	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/install"
	operatorutil "kubevirt.io/kubevirt/pkg/virt-operator/util"
	"kubevirt.io/kubevirt/tools/util"
)

const namespace = "kubevirt"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencrds <output dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gencrds:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	kv := &virtv1.KubeVirt{ObjectMeta: metav1.ObjectMeta{Name: "kubevirt", Namespace: namespace}}
	strategy, err := install.GenerateCurrentInstallStrategy(operatorutil.GetTargetConfigFromKV(kv), "", namespace)
	if err != nil {
		return err
	}
	kubevirtCrd, err := components.NewKubeVirtCrd()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, crd := range append([]*extv1.CustomResourceDefinition{kubevirtCrd}, strategy.CRDs()...) {
		crd.TypeMeta = metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}
		f, err := os.Create(filepath.Join(dir, crd.Spec.Group+"_"+crd.Spec.Names.Plural+".yaml"))
		if err != nil {
			return err
		}
		err = util.MarshallObject(crd, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
