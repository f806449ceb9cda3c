import { getResourceTypes, searchParametersOf, patientCompartmentParamsOf } from './fhir/definitions.ts';
console.log(getResourceTypes().length, Object.keys(searchParametersOf('Patient')), patientCompartmentParamsOf('Encounter'));
console.log(Object.values(searchParametersOf('Observation')).map(p=>p.code+':'+p.type).join(' '));
