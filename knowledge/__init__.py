"""Knowledge base: documents, chunking, embeddings and hybrid search."""
