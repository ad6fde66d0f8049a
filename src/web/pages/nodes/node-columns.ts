import type { Column } from '../../components/OptionalList.tsx';

export const NODE_COLUMNS: Column[] = [
  { key: 'name', label: 'Name' },
  { key: 'address', label: 'Address' },
  { key: 'host', label: 'Host' },
  { key: 'os', label: 'OS' },
  { key: 'status', label: 'Status' },
  { key: 'state', label: 'State' },
  { key: 'lastSeenAt', label: 'Last seen' },
];
