// Nova's bodies for a server's metadata (/servers/{id}/metadata) and tags (/servers/{id}/tags). Pure.

export const metadataView = (metadata: Record<string, string> | undefined) => ({ metadata: metadata ?? {} });

/** One metadata item: `{"meta": {key: value}}`. */
export const metaItemView = (meta: Record<string, string>) => ({ meta });

export const tagsView = (tags: string[] | undefined) => ({ tags: tags ?? [] });
