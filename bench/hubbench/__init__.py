"""hub_bench's parts: collabd against pycrdt-websocket with a Node Yjs load generator."""
