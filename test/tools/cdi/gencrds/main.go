// gencrds writes every CustomResourceDefinition CDI's operator installs, one YAML file per CRD
// (<group>_<plural>.yaml), into the directory given as its only argument. It uses cdi-operator's own
// code: the cluster resource group "crd-resources" (DataVolume, DataSource, CDIConfig, …) plus the
// CDI CRD, which the operator's own manifests carry. Run by test/tools/build.sh kubevirt-crds.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"kubevirt.io/containerized-data-importer/pkg/operator/resources"
	"kubevirt.io/containerized-data-importer/pkg/operator/resources/cluster"
)

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
	objs, err := cluster.CreateStaticResourceGroup("crd-resources", &cluster.FactoryArgs{Namespace: "cdi"})
	if err != nil {
		return err
	}
	// The CDI CRD, decoded as cdi-operator's createCDIListCRD does.
	cdi := &extv1.CustomResourceDefinition{}
	if err := k8syaml.NewYAMLToJSONDecoder(strings.NewReader(resources.CDICRDs["cdi"])).Decode(cdi); err != nil {
		return err
	}
	crds := []*extv1.CustomResourceDefinition{cdi}
	for _, o := range objs {
		crd, ok := o.(*extv1.CustomResourceDefinition)
		if !ok {
			return fmt.Errorf("crd-resources holds a %T", o)
		}
		crds = append(crds, crd)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, crd := range crds {
		if crd.Spec.Group == "" || crd.Spec.Names.Plural == "" {
			return fmt.Errorf("CRD %q has no group or plural", crd.Name)
		}
		text, err := marshal(crd)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, crd.Spec.Group+"_"+crd.Spec.Names.Plural+".yaml"), text, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// marshal writes the CRD as YAML without status and creationTimestamp (as KubeVirt's generator does).
func marshal(crd *extv1.CustomResourceDefinition) ([]byte, error) {
	crd.APIVersion, crd.Kind = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
	j, err := json.Marshal(crd)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append([]byte("---\n"), y...), nil
}
