// metav1.LabelSelector → the `labelSelector` query string of a LIST (the apiserver does the matching).

export interface LabelSelectorLike {
  matchLabels?: Readonly<Record<string, string>> | undefined;
  matchExpressions?: readonly { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: readonly string[] | undefined }[] | undefined;
}

export function labelSelectorString(sel: LabelSelectorLike): string {
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vs = (e.values ?? []).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${vs})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${vs})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(",");
}
