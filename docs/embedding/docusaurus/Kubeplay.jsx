// A live kubeplay playground for Docusaurus (MDX). Put this file in src/components/, add the
// script once in docusaurus.config.js:
//   scripts: [{ src: 'https://kubeplay.example/embed.js', defer: true }],
// and write in any .mdx page:
//   import Kubeplay from '@site/src/components/Kubeplay';
//   <Kubeplay script="sleep 10s; kubectl get pods">{`apiVersion: v1
//   kind: Pod
//   ...`}</Kubeplay>
// Docusaurus sets <html data-theme="light|dark">, which embed.js follows.
import React, { useEffect, useRef } from 'react';

export default function Kubeplay({ children, script, seed, panes, readonly, load, height }) {
  const ref = useRef(null);
  useEffect(() => {
    // Pages render on the client after embed.js has run: ask it to look again.
    if (window.kubeplay) window.kubeplay.scan(ref.current);
  }, []);
  return (
    <div ref={ref}>
      <pre className="kubeplay" data-script={script} data-seed={seed} data-panes={panes}
           data-readonly={readonly ? '' : undefined} data-load={load} data-height={height}>
        {children}
      </pre>
    </div>
  );
}
